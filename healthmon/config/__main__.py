"""Print the README's configuration tables: `python -m healthmon.config`."""

from healthmon.config.table import config_table

print(config_table())
