"""The platform's own code, without Dagster: one package per domain, mirroring `defs/`.

`defs/` is what Dagster shows (assets, checks, sensors, schedules) and `cli/` what a user types;
both call into here. `db` (the embedded server, migrations, roles, locks), `ingest` and
`simulate` serve every domain.
"""
