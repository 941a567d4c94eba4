"""Emulator process management without node: fake emulator scripts, busy ports, connection strings."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from devhost.emulators import EmulatorError, Emulators, free_ports, storage_connection_string


def fake_project(root: Path, azurite_script: str, cosmos_script: str) -> Path:
    bin_dir = root / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    for name, script in (("azurite", azurite_script), ("cosmosdb-server", cosmos_script)):
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{script}\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return root


def test_connection_string_names_every_endpoint():
    value = storage_connection_string(1, 2, 3)
    assert "AccountName=devstoreaccount1;" in value
    assert "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;" in value
    assert "QueueEndpoint=http://127.0.0.1:2/devstoreaccount1;" in value
    assert "TableEndpoint=http://127.0.0.1:3/devstoreaccount1;" in value


def test_free_ports_are_distinct():
    ports = free_ports(4)
    assert len(set(ports)) == 4


def test_an_emulator_that_dies_is_named_with_its_log(tmp_path: Path):
    root = fake_project(tmp_path / "project", "echo 'azurite cannot start: boom' >&2; exit 3", "sleep 30")
    emulators = Emulators(root, tmp_path / "data")
    assert emulators.env()["AzureWebJobsStorage"] == emulators.storage_connection_string
    assert emulators.cosmos_endpoint == f"https://127.0.0.1:{emulators.cosmos_port}"
    with pytest.raises(EmulatorError, match=r"(?s)Azurite exited \(code 3\).*boom"):
        emulators.start()
    # The survivor was stopped with it.
    assert not emulators.cosmos_alive()


def test_a_busy_port_is_refused_before_anything_starts(tmp_path: Path):
    root = fake_project(tmp_path / "project", "sleep 30", "sleep 30")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(EmulatorError, match=f"{port} already in use"):
            Emulators(root, tmp_path / "data", cosmos_port=port).start()
    assert not (tmp_path / "data" / "azurite.log").exists()


def test_a_missing_install_says_how_to_fix_it(tmp_path: Path):
    with pytest.raises(EmulatorError, match="npm ci"):
        Emulators(tmp_path, tmp_path / "data")


def test_relative_paths_are_resolved_before_the_children_change_directory(tmp_path: Path, monkeypatch):
    fake_project(tmp_path / "project", "sleep 30", "sleep 30")
    monkeypatch.chdir(tmp_path)
    emulators = Emulators(Path("project"), Path("data"))
    assert emulators.root == tmp_path / "project"
    assert emulators.data_dir == tmp_path / "data"
