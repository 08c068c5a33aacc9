"""Backup stores: a folder and an S3-compatible bucket (moto's server on a free local port) keep,
list, return and delete objects alike, and no key leaves the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from moto.server import ThreadedMotoServer

from persistence.backup import BackupError
from persistence.backups import BackupStore, FolderStore, S3Store

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BUCKET = "fieldhub-backups"
CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server on 127.0.0.1 with an empty bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BackupStore:
    if request.param == "folder":
        return FolderStore(root=tmp_path / "backups")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Store(bucket=BUCKET, prefix=f"{tmp_path.name}/", endpoint_url=endpoint, **CREDENTIALS)


async def test_a_file_round_trips_through_the_store(store: BackupStore, tmp_path: Path) -> None:
    source = tmp_path / "in.dump"
    source.write_bytes(bytes(range(256)) * 40_000)  # ~10 MB: S3 takes it in parts
    await store.upload("fieldhub-1.dump", source)
    await store.write("fieldhub-1.json", b'{"name": "fieldhub-1"}')
    target = tmp_path / "out.dump"
    await store.download("fieldhub-1.dump", target)
    assert target.read_bytes() == source.read_bytes()
    assert await store.read("fieldhub-1.json") == b'{"name": "fieldhub-1"}'
    assert sorted(await store.keys()) == ["fieldhub-1.dump", "fieldhub-1.json"]


async def test_deleted_objects_are_gone_and_deleting_twice_is_no_error(store: BackupStore) -> None:
    await store.write("fieldhub-2.json", b"{}")
    await store.delete("fieldhub-2.json")
    await store.delete("fieldhub-2.json")
    assert await store.keys() == []
    with pytest.raises(BackupError) as raised:
        await store.read("fieldhub-2.json")
    assert raised.value.code == "not_found"


async def test_a_missing_object_downloads_as_not_found(store: BackupStore, tmp_path: Path) -> None:
    with pytest.raises(BackupError) as raised:
        await store.download("fieldhub-none.dump", tmp_path / "none.dump")
    assert raised.value.code == "not_found"


@pytest.mark.parametrize("key", ["../escape.dump", "a/b.dump", ".hidden", ""])
async def test_keys_that_would_leave_the_store_are_refused(store: BackupStore, key: str) -> None:
    with pytest.raises(BackupError) as raised:
        await store.write(key, b"x")
    assert raised.value.code == "bad_name"
    assert await store.keys() == []


async def test_the_folder_store_never_lists_a_half_written_object(tmp_path: Path) -> None:
    store = FolderStore(root=tmp_path)
    (tmp_path / ".fieldhub-3.dump.partial").write_bytes(b"half")
    await store.write("fieldhub-3.json", b"{}")
    assert await store.keys() == ["fieldhub-3.json"]


async def test_a_bucket_that_does_not_exist_fails_with_store_failed(s3_endpoint: str) -> None:
    store = S3Store(bucket="no-such-bucket", endpoint_url=s3_endpoint, **CREDENTIALS)
    with pytest.raises(BackupError) as raised:
        await store.keys()
    assert raised.value.code == "store_failed"
    assert "no-such-bucket" in raised.value.message


async def test_a_folder_that_cannot_be_made_fails_with_store_failed(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    with pytest.raises(BackupError) as raised:
        await FolderStore(root=blocker / "backups").write("fieldhub-4.json", b"{}")
    assert raised.value.code == "store_failed"
