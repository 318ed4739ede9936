{#
    What the Materialize models need before they can run, and that dbt does not model: the
    clusters, the landing database's password as a SECRET, and the connections. Run it once per
    environment, and again after rotating the password:

        LANDING_PG_PASSWORD=... dbt run-operation create_materialize_connections --target materialize

    The password is read here and nowhere else, and goes to the server as a bound parameter, so
    it reaches neither a compiled file, the manifest nor dbt's query log. The other settings are
    plain: env vars with the defaults of infra/compose.yaml, or --vars of the same name.
#}
{% macro create_materialize_connections() %}
    {% if target.type != 'materialize' %}
        {{ exceptions.raise_compiler_error('create_materialize_connections is for the materialize target') }}
    {% endif %}

    {% for cluster in [var('mz_ingest_cluster'), var('mz_compute_cluster')] %}
        {% if not cluster_exists(cluster) %}
            {% do adapter.add_query(
                'create cluster ' ~ adapter.quote(cluster) ~ ' (size = %s)',
                auto_begin=false,
                bindings=[var('mz_cluster_size')],
            ) %}
        {% endif %}
    {% endfor %}

    {% do run_query('create schema if not exists connections') %}

    {% if var('landing_via') == 'postgres' %}
        {% set password = env_var('LANDING_PG_PASSWORD') %}
        {% do adapter.add_query(
            'create secret if not exists connections.landing_pg_password as %s',
            auto_begin=false,
            bindings=[password],
        ) %}
        {% do adapter.add_query(
            'alter secret connections.landing_pg_password as %s',
            auto_begin=false,
            bindings=[password],
        ) %}
        {% do adapter.add_query(
            'create connection if not exists connections.landing_pg to postgres (
                host %s,
                port %s,
                user %s,
                password secret connections.landing_pg_password,
                database %s,
                ssl mode %s
            )',
            auto_begin=false,
            bindings=[
                var('landing_pg_host', env_var('LANDING_PG_HOST', 'landing-postgres')),
                var('landing_pg_port', env_var('LANDING_PG_PORT', '5432')) | int,
                var('landing_pg_user', env_var('LANDING_PG_USER', 'materialize')),
                var('landing_pg_database', env_var('LANDING_PG_DATABASE', 'inventory')),
                var('landing_pg_sslmode', env_var('LANDING_PG_SSLMODE', 'disable')),
            ],
        ) %}
    {% endif %}

    {# always: the ERP sink writes to Kafka whichever way the landing data arrives #}
    {% do adapter.add_query(
        'create connection if not exists connections.redpanda to kafka (
            broker %s,
            security protocol = %s
        )',
        auto_begin=false,
        bindings=[
            var('kafka_broker', env_var('KAFKA_BROKER', 'redpanda:9092')),
            var('kafka_security_protocol', env_var('KAFKA_SECURITY_PROTOCOL', 'PLAINTEXT')),
        ],
    ) %}

    {{ log('Materialize clusters, secret and connections are in place', info=true) }}
{% endmacro %}
