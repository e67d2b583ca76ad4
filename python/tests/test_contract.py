"""The worker's own lists agree with ``contract.json``, the file the Java side is checked against."""

from __future__ import annotations

import json
from pathlib import Path

from dspex_worker import __version__, contract
from dspex_worker.codec import formats
from dspex_worker.predict import fields
from dspex_worker.protocol import errors, frames, negotiation, settings
from dspex_worker.protocol.ref import REF

CONTRACT_FILE = Path(contract.__file__).with_name("contract.json")


def test_the_contract_is_the_packaged_file_and_the_package_version_comes_from_it() -> None:
    raw = json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))
    assert __version__ == raw["package_version"] == contract.PACKAGE_VERSION
    assert contract.value("settings.max_frame_bytes") == raw["settings"]["max_frame_bytes"]


def test_content_formats_match_the_contract_name_byte_and_capabilities() -> None:
    assert formats.NAMES == tuple(contract.FORMAT_FRAME_TYPES)
    for f in formats.FORMATS:
        assert f.frame_type == contract.FORMAT_FRAME_TYPES[f.name], f.name
        carries = contract.FORMAT_CARRIES[f.name]
        assert (f.header, f.records, f.arrays) == (carries["header"], carries["records"],
                                                   carries["arrays"]), f.name


def test_frame_types_are_the_formats_then_the_contracts_own() -> None:
    expected = {name.upper(): byte for name, byte in contract.FORMAT_FRAME_TYPES.items()}
    expected.update(contract.FRAME_TYPES)
    assert {t.name: t.value for t in frames.FrameType} == expected
    assert REF == contract.REF_FORMAT


def test_settings_defaults_and_hello_keys_are_the_contracts() -> None:
    assert settings.DEFAULT_SETTINGS.to_hello_args() == dict(contract.SETTINGS)
    assert settings.HELLO_SETTING_KEYS == tuple(contract.SETTINGS)
    assert (negotiation.V2, negotiation.V1) == contract.PROTOCOLS


def test_the_temp_dir_variable_is_the_contracts() -> None:
    from dspex_worker import offline

    assert offline.TEMP_DIR_ENV == contract.value("worker_env.temp_dir") == "DSPEX_WORKER_TMPDIR"


def test_protocol_error_names_are_the_contracts() -> None:
    assert sorted(errors.ERRORS_BY_NAME) == sorted(contract.PROTOCOL_ERRORS)


def test_field_type_names_are_the_contracts() -> None:
    described = {fields.describe_type(t)["type"] for t in (str, int, float, bool, list[str], list[int],
                                                           list[float], list[bool], dict)}
    assert described == set(contract.FIELD_TYPES)


def test_element_failure_types_the_worker_reports_are_in_the_contract() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8")
                        for p in Path(formats.__file__).parents[1].rglob("*.py"))
    for name in contract.ELEMENT_ERRORS:
        assert f'"{name}"' in sources, f"{name} is in the contract but no worker module reports it"
