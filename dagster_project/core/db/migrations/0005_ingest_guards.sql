-- Why a text is not acceptable jsonb, as pg_input_error_info reports it (null message: it is
-- acceptable). pg_input_error_info reports most problems softly, but nesting deeper than the
-- server's stack (`[[[[...` some ten thousand levels) raises an error that would abort the whole
-- ingest batch; here it becomes the reason of the one record. Ingest calls this only for lines
-- that are already malformed or too long to be checked without it.
create function raw.jsonb_input_error(
    input text, out message text, out detail text, out sql_error_code text
)
language plpgsql stable strict parallel safe as $$
begin
    select e.message, e.detail, e.sql_error_code
    into message, detail, sql_error_code
    from pg_input_error_info(input, 'jsonb') as e;
exception when statement_too_complex or program_limit_exceeded then
    message := 'nested too deeply';
    detail := sqlerrm;
    sql_error_code := sqlstate;
end
$$;

-- A quarantined record's raw text is kept once: a JSON line is its own payload, so payload now
-- holds only what differs from the raw text (a CSV row as a JSON object). Whether the record
-- could be read at all, which a null payload used to say, gets its own column.
alter table raw.quarantine add column unreadable boolean not null default false;
update raw.quarantine set unreadable = true where payload is null;
update raw.quarantine set payload = null where payload = raw_text;
