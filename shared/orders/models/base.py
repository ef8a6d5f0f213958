"""The base of every pydantic model of the package.

``defer_build``: a model's validator and serializer are built the first time the model is used,
not when its module is imported. A function imports the whole models package but uses a few
models per request, so its cold start pays only for those (bench/cold_start.py measures both
"import + first client" and "import + first request").
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
