"""The API fuzzed from its own OpenAPI spec (schemathesis): whatever a client sends, the answer is never a 5xx.
Requests carry the admin token, so the admin endpoints are fuzzed past the token check too."""

from __future__ import annotations

import itertools
import shutil
from collections import defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from core.settings import Settings
from index.build import build
from serve.factory import make_app
from tests.conftest import CORPUS, TODAY
from tests.fakes import HashingEmbedder

pytestmark = pytest.mark.slow
TOKEN = "fuzz-admin-token"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(CORPUS, folder / "corpus")
    settings = Settings(corpus_dir=folder / "corpus", data_dir=folder / "data", today=TODAY, admin_token=TOKEN,
                        api_requests_per_minute=0)
    embedder = HashingEmbedder()
    build(settings, embedder, progress=False)
    app = make_app(settings, embedder=embedder, warm_up=False)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def fuzzer(operation, mode: GenerationMode, seen: dict[str, set[int]]):
    """A hypothesis test sending one operation's generated requests, valid or invalid (``mode``)."""

    @given(case=operation.as_strategy(mode))
    @hypothesis_settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def fuzz(case):
        response = case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=[not_a_server_error])
        seen[f"{operation.method.upper()} {operation.path}"].add(response.status_code)

    return fuzz


def test_no_request_gets_a_server_error(api_schema):
    # schemathesis's pytest plugin does not run under pytest 9; each operation's strategy is driven by hypothesis.
    seen: dict[str, set[int]] = defaultdict(set)
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    for operation, mode in itertools.product(operations, GenerationMode):  # valid requests, and invalid ones
        try:
            fuzzer(operation, mode, seen)()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no parameters, no body)
    assert 200 in seen["POST /api/ask"] and 422 in seen["POST /api/ask"]  # answered and refused: it did reach the app
