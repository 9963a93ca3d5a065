{{ config(materialized='view') }}

-- One row per forecaster version with its promotion decision and the validation and test
-- metrics a user needs to judge a forecast: the LSTM beside the naive baseline (zero
-- return: the error to beat) and the training drift (in practice "always up": the
-- direction to beat; a zero forecast has none) per horizon. A view on the source (see
-- fct_predictions).
with versions as (
    select * from {{ source('ml', 'model_versions') }}
),

final as (
    select
        model_name,
        version,
        run_id,
        trained_as_of,
        promoted,
        promotion_reason,
        {%- for split in ['validation', 'test'] %}
        {%- for model, measured in [('lstm', ['mae', 'direction']), ('naive', ['mae']),
                                    ('drift', ['mae', 'direction'])] %}
        {%- for metric in measured %}
        {%- for h in [5, 21, 63] %}
        (metrics ->> '{{ split }}_{{ model }}_{{ metric }}_h{{ h }}')::float8
            as {{ split }}_{{ model }}_{{ metric }}_h{{ h }},
        {%- endfor %}
        {%- endfor %}
        {%- endfor %}
        {%- endfor %}
        {%- for h in [5, 21, 63] %}
        (metrics ->> 'test_lstm_coverage_h{{ h }}')::float8 as test_lstm_coverage_h{{ h }},
        {%- endfor %}
        created_at
    from versions
)

select * from final
