"""The file store: folders under instance/ by default, an S3-compatible bucket when
CONSULT_BLOB_STORE says so (tested against moto's S3 server over real HTTP), and in
both the bytes read back are checked against the sha256 they were stored under."""

from __future__ import annotations

import hashlib
import socket

import pytest

from consult import blobs

from .attachment_files import make_pdf
from .conftest import bearer, post_comment
from .test_attachments import _upload

BUCKET = "consult-files"


@pytest.fixture
def s3(app, monkeypatch):
    """The app's file store switched to a bucket of a moto S3 server on a free port;
    yields a boto3 client of that server."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for k, v in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=BUCKET)
    monkeypatch.setitem(app.config, "BLOB_STORE", f"s3://{BUCKET}/consult")
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", endpoint)
    app.extensions.pop("consult_blobs", None)
    yield client
    app.extensions.pop("consult_blobs", None)
    server.stop()


def test_attachments_go_to_the_bucket_and_come_back_checked(
    app, client, s3, make_document, make_user
):
    doc = make_document("consultation")
    author = make_user("cso")
    c = post_comment(doc.latest, doc.latest.paragraphs[1], author, body="Our paper.")
    pdf = make_pdf(["A paper kept in a bucket"])
    digest = hashlib.sha256(pdf).hexdigest()
    resp = _upload(client, c.id, pdf, "paper.pdf", bearer(author))
    assert resp.status_code == 201, resp.get_data(as_text=True)

    key = f"consult/attachments/{digest[:2]}/{digest[2:]}"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == pdf
    link = resp.get_json()["links"]["download"]
    got = client.get(link)
    assert got.status_code == 200 and got.data == pdf

    # Changed in the bucket behind Consult's back: refused, never served as the recorded file.
    s3.put_object(Bucket=BUCKET, Key=key, Body=pdf + b"tampered")
    refused = client.get(link)
    assert refused.status_code == 500
    assert b"does not match its recorded sha256" in refused.data
    assert b"tampered" not in refused.data


def test_the_local_store_names_files_by_hash_and_refuses_changed_ones(app, tmp_path, monkeypatch):
    with app.app_context():
        digest = blobs.put("intake", b"a message")
        path = blobs.store().path("intake", digest)
        assert path.read_bytes() == b"a message"
        assert blobs.put("intake", b"a message") == digest  # kept once
        assert blobs.get("intake", digest) == b"a message"
        path.write_bytes(b"another message")
        assert blobs.find("intake", digest) is None
        with pytest.raises(Exception, match="does not match its recorded sha256"):
            blobs.get("intake", digest)
        assert blobs.find("intake", "not-a-hash") is None


def test_a_store_url_that_is_not_s3_is_refused():
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        blobs.S3Store("ftp://bucket/x", client=object())
