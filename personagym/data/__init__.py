"""Trajectory data: JSON-lines and Parquet files, `datasets` Features and the published JSON schema."""

from personagym.data.trajectories import (
    JSON_SCHEMA_PATH,
    REWARD_COMPONENTS,
    export_json_schema,
    from_row,
    load_dataset,
    read_jsonl,
    read_parquet,
    record_features,
    trajectory_features,
    trajectory_json_schema,
    write_jsonl,
    write_parquet,
)

__all__ = [
    "JSON_SCHEMA_PATH",
    "REWARD_COMPONENTS",
    "export_json_schema",
    "from_row",
    "load_dataset",
    "read_jsonl",
    "read_parquet",
    "record_features",
    "trajectory_features",
    "trajectory_json_schema",
    "write_jsonl",
    "write_parquet",
]
