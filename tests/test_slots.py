from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_deploykit import slots
from django_deploykit.deploy_root import layout


def make_root(tmp_path: Path, names: tuple[str, str] = ("blue", "green")) -> Path:
    root = tmp_path / "site"
    for name in names:
        (root / name / "project").mkdir(parents=True)
    (root / "shared").mkdir()
    (root / layout.ROOT_MARKER).write_text(json.dumps({"slots": list(names)}))
    (root / "live").symlink_to(names[0])
    (root / "stage").symlink_to(names[1])
    return root


class FindDeployRootTests:
    def test_found_from_the_real_path_of_the_code(self, tmp_path: Path) -> None:
        root = make_root(tmp_path, ("dog", "cat"))
        found = slots.find_deploy_root(root / "live" / "project", environ={})
        assert found == slots.DeployRoot(root.resolve(), ("dog", "cat"))
        assert found.shared_dir == root.resolve() / "shared"
        assert found.other_slot("dog") == "cat"

    def test_none_outside_a_deploy_root(self, tmp_path: Path) -> None:
        assert slots.find_deploy_root(tmp_path, environ={}) is None

    def test_environment_variable_wins(self, tmp_path: Path) -> None:
        root = make_root(tmp_path)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        assert slots.find_deploy_root(elsewhere, environ={"DEPLOYKIT_ROOT": str(root)}) is not None

    def test_environment_variable_must_be_a_directory(self, tmp_path: Path) -> None:
        with pytest.raises(ImproperlyConfigured, match="DEPLOYKIT_ROOT is .* not a directory"):
            slots.find_deploy_root(tmp_path, environ={"DEPLOYKIT_ROOT": str(tmp_path / "absent")})

    def test_marker_without_slots_uses_the_defaults(self, tmp_path: Path) -> None:
        (tmp_path / layout.ROOT_MARKER).write_text("{}")
        assert slots.find_deploy_root(tmp_path, environ={}) == slots.DeployRoot(tmp_path.resolve())

    @pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"slots": ["a", "a"]}'])
    def test_bad_marker(self, tmp_path: Path, content: str) -> None:
        (tmp_path / layout.ROOT_MARKER).write_text(content)
        with pytest.raises(ImproperlyConfigured, match="deploy root marker"):
            slots.find_deploy_root(tmp_path, environ={})


class CurrentSlotTests:
    def test_slot_from_real_path(self, tmp_path: Path) -> None:
        root = make_root(tmp_path)
        deploy_root = slots.find_deploy_root(root, environ={})
        assert slots.current_slot(root / "live" / "project", deploy_root) == "blue"
        assert slots.current_slot(root / "stage" / "project", deploy_root) == "green"
        assert slots.current_slot(root / "shared", deploy_root) is None
        assert slots.current_slot(tmp_path, deploy_root) is None
        assert slots.current_slot(root / "blue", None) is None

    def test_shared_dir_falls_back_outside_a_root(self, tmp_path: Path) -> None:
        assert slots.shared_dir(None, tmp_path) == tmp_path
        assert slots.shared_dir(slots.DeployRoot(tmp_path), "x") == tmp_path / "shared"


class SlotNameTests:
    @pytest.mark.parametrize(
        ("names", "message"),
        [
            (("blue",), "Exactly two slot names"),
            (("blue", "blue"), "must differ"),
            (("blue", "gr:een"), "must start with a letter or digit"),
            (("blue", "gr*en"), "must start with a letter or digit"),
            (("blue", "live"), "reserved"),
            (("blue", "blue2"), "prefixes of each other"),
        ],
    )
    def test_invalid(self, names: tuple[str, ...], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            layout.validate_slot_names(names)

    def test_valid(self) -> None:
        assert layout.validate_slot_names(["dog", "cat"]) == ("dog", "cat")

    def test_slot_dir_rejects_unknown(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="not one of"):
            slots.DeployRoot(tmp_path).slot_dir("red")


class KeyPrefixTests:
    def test_slot_key_prefix(self) -> None:
        assert slots.slot_key_prefix("mysite", "blue") == "mysite_blue"
        assert slots.slot_key_prefix("mysite", None) == "mysite"

    @pytest.mark.parametrize(
        ("base", "slot"), [("", "blue"), ("my:site", "blue"), ("mysite", "bl*e"), ("my site", None)]
    )
    def test_unsafe_parts_are_refused(self, base: str, slot: str | None) -> None:
        with pytest.raises(ImproperlyConfigured, match="KEY_PREFIX"):
            slots.slot_key_prefix(base, slot)

    def test_named_aliases_get_the_slot_sessions_stay_shared(self) -> None:
        caches = {
            "default": {"BACKEND": "x"},
            "pages": {"BACKEND": "x", "KEY_PREFIX": "shop"},
            "sessions": {"BACKEND": "x"},
        }
        result = slots.with_slot_key_prefixes(caches, base_prefix="mysite", slot="green")
        assert result == {
            "default": {"BACKEND": "x", "KEY_PREFIX": "mysite_green"},
            "pages": {"BACKEND": "x", "KEY_PREFIX": "shop_green"},
            "sessions": {"BACKEND": "x", "KEY_PREFIX": "mysite"},
        }
        assert "KEY_PREFIX" not in caches["default"]

    def test_outside_slots_the_base_prefix_is_used(self) -> None:
        result = slots.with_slot_key_prefixes({"default": {}}, base_prefix="mysite", slot=None)
        assert result["default"]["KEY_PREFIX"] == "mysite"
