"""healthmon's settings: typed sections, each field bound to an environment variable, in one `Settings`.

The bottom layer beside `healthmon.core`: it imports nothing else of healthmon. Each section is what
one part of healthmon uses; `Settings()` reads them all from the environment at once.
"""

from healthmon.config.alerts import AlertSettings
from healthmon.config.kafka import KafkaSettings
from healthmon.config.pipeline import DEFAULT_POLICY_FILE, AlignmentSettings, EngineSettings, IngestSettings
from healthmon.config.redis import RedisSettings
from healthmon.config.section import Section
from healthmon.config.settings import Settings
from healthmon.config.table import config_table, env_value, settings_env
from healthmon.config.topics import TopicSettings
from healthmon.config.worker import (
    ACCOUNT_METRICS_MODES,
    AccountMetricsMode,
    HttpSettings,
    StoreSettings,
    WorkerSettings,
)

__all__ = ["ACCOUNT_METRICS_MODES", "AccountMetricsMode", "AlertSettings", "AlignmentSettings",
           "DEFAULT_POLICY_FILE", "EngineSettings", "HttpSettings", "IngestSettings", "KafkaSettings",
           "RedisSettings", "Section", "Settings", "StoreSettings", "TopicSettings", "WorkerSettings",
           "config_table", "env_value", "settings_env"]
