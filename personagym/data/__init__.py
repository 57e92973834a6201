"""Trajectory data: JSON-lines and Parquet files, `datasets` Features and the published JSON schema.

Also the records and readers of sharded, resumable generation (the function is
`personagym.data.generate.generate`, not re-exported, so that name stays the
module), statistics and a dataset card of a generated directory (`dataset_stats`,
`write_card`, and the `Tally` generation fills so the card needs no second read),
and training exports of it (`export`: chat, pki_sft, ppopt, pairs; recall questions for evaluation).
"""

from personagym.data.exports import (
    EXPORT_KINDS,
    export,
    export_chat,
    export_features,
    export_pairs,
    export_pki_sft,
    export_ppopt,
)
from personagym.data.generate import (
    EpisodeError,
    GenerateConfig,
    GenerationError,
    Manifest,
    ShardRecord,
    episode_seed,
    load_manifest,
    persona_seed,
    policy_seed,
    read_generated,
    shard_paths,
)
from personagym.data.recall import export_recall
from personagym.data.stats import dataset_stats, write_card
from personagym.data.tally import Tally
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
    "EXPORT_KINDS",
    "JSON_SCHEMA_PATH",
    "REWARD_COMPONENTS",
    "EpisodeError",
    "GenerateConfig",
    "GenerationError",
    "Manifest",
    "ShardRecord",
    "Tally",
    "dataset_stats",
    "episode_seed",
    "export",
    "export_chat",
    "export_features",
    "export_json_schema",
    "export_pairs",
    "export_pki_sft",
    "export_ppopt",
    "export_recall",
    "from_row",
    "load_dataset",
    "load_manifest",
    "persona_seed",
    "policy_seed",
    "read_generated",
    "read_jsonl",
    "read_parquet",
    "record_features",
    "shard_paths",
    "trajectory_features",
    "trajectory_json_schema",
    "write_card",
    "write_jsonl",
    "write_parquet",
]
