"""Dagster resources: the run settings and the warehouse, generated from pipelines/settings.py.

Nothing is declared here twice: each config field of `PipelineSettings` and `Warehouse` is a
field of `pipelines.settings.Settings`, with its description (and the `PD_*` variable that sets
it) shown in the UI's resource and launchpad views. The values a code location starts with come
from `Settings.from_env()` in pipelines/definitions.py; run config can change them per run, and
`Warehouse.settings()` validates the combination again (a bad run-config value fails the run
with the same one-line message as a bad environment variable).
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb
from pydantic import Field, create_model

from pipelines.settings import Settings, env_name, setting_fields
from pipelines.warehouse.lock import connect_waiting


def _config_fields(resource: str, defaults: Settings | None = None) -> dict[str, Any]:
    """Config fields for `resource`: str for paths and dates (what run config can carry)."""
    defaults = defaults or Settings.model_construct()
    fields: dict[str, Any] = {}
    for key, (name, info) in setting_fields(resource).items():
        value = getattr(defaults, name)
        kind = info.annotation if info.annotation in (int, float, bool) else str
        default = value if kind is not str else ("" if value is None else str(value))
        if hasattr(value, "isoformat"):
            default = value.isoformat()
        fields[key] = (
            kind,
            Field(default, description=f"{info.description} Env: {env_name(name)}."),
        )
    return fields


class _SettingsBase(dg.ConfigurableResource):
    """Paths, the analysis window and thresholds (pipelines/settings.py)."""

    def values(self) -> dict[str, Any]:
        """{Settings field: value} of this resource's fields."""
        return {
            name: getattr(self, key) for key, (name, _info) in setting_fields("settings").items()
        }


class _WarehouseBase(dg.ConfigurableResource):
    """The DuckDB warehouse file, opened with an explicit memory limit and spill directory."""

    def values(self) -> dict[str, Any]:
        return {
            name: getattr(self, key) for key, (name, _info) in setting_fields("warehouse").items()
        }

    def settings(self, settings: dg.ConfigurableResource) -> Settings:
        """The run's Settings: both resources' fields, validated together."""
        return Settings.checked({**settings.values(), **self.values()})

    def connect(
        self, settings: dg.ConfigurableResource, read_only: bool = False
    ) -> duckdb.DuckDBPyConnection:
        s = self.settings(settings)
        return connect_waiting(s, read_only=read_only, timeout_s=s.lock_timeout)


PipelineSettings = create_model(
    "PipelineSettings",
    __base__=_SettingsBase,
    __module__=__name__,
    __doc__=_SettingsBase.__doc__,
    **_config_fields("settings"),
)
Warehouse = create_model(
    "Warehouse",
    __base__=_WarehouseBase,
    __module__=__name__,
    __doc__=_WarehouseBase.__doc__,
    **_config_fields("warehouse"),
)


def resources_for(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The `settings` and `warehouse` resources with `settings`' values as their defaults.

    As config *defaults*, not instance values: Dagster fills every field that a run's config
    leaves out from the class defaults (not from the instance), so a sensor's run config that
    sets only `release_path` must find the code location's other values there.
    """
    out: dict[str, dg.ConfigurableResource] = {}
    for key, base in (("settings", PipelineSettings), ("warehouse", Warehouse)):
        cls = create_model(
            base.__name__,
            __base__=base,
            __module__=__name__,
            __doc__=base.__doc__,
            **_config_fields(key, settings),
        )
        out[key] = cls()
    return out
