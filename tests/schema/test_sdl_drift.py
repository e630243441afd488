from __future__ import annotations

from schema.build import SDL_PATH, export_sdl


def test_exported_schema_matches_the_code() -> None:
    assert SDL_PATH.read_text(encoding="utf-8") == export_sdl(), (
        "schema/schema.graphql is stale: run `make schema` (rmgraph export-schema) and commit it"
    )
