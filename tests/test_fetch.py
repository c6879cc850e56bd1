"""fetch_data against a local HTTP server on 127.0.0.1: a good file, a corrupt one, a 404, a
download cut short and resumed with a Range request, files already present, and run_all's
preflight fetching the real MNIST files from a mirror of the shared data folder."""
import gzip
import hashlib
import http.server
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from building_blocks.image import data, fetch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))


class _Server(object):
    """Serves ``files`` {url path: bytes}; honours Range; ``cut`` {path: n} sends the full
    Content-Length but only the first n bytes, then closes (an interrupted download)."""

    def __init__(self, files):
        self.files, self.cut, self.requests = dict(files), {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", "bytes %d-%d/%d"
                                     % (start, len(body) - 1, len(body)))
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                limit = server.cut.pop(self.path, None)
                self.wfile.write(body[start:start + limit] if limit else body[start:])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server({})
    yield s
    s.close()


def _payload(size=300000, seed=0):
    raw = np.random.RandomState(seed).randint(0, 255, size).astype(np.uint8).tobytes()
    return gzip.compress(raw, 1), hashlib.sha256(raw).hexdigest()


def test_good_file_is_fetched_checked_and_named(server, tmp_path):
    body, digest = _payload()
    server.files["/a/x.gz"] = body
    url = fetch.fetch_file("x.gz", str(tmp_path), fetch._check("sha256", digest, gunzip=True),
                           [server.url + "/a/x.gz"], log=lambda m: None)
    assert url.endswith("/a/x.gz")
    assert (tmp_path / "x.gz").read_bytes() == body and not (tmp_path / "x.gz.part").exists()
    # Present and intact: checked, not downloaded again.
    assert fetch.fetch_file("x.gz", str(tmp_path), fetch._check("sha256", digest, gunzip=True),
                            [server.url + "/a/x.gz"]) is None
    assert len(server.requests) == 1


def test_corrupt_file_and_404_fall_through_to_the_next_source(server, tmp_path):
    body, digest = _payload()
    server.files["/bad/x.gz"] = gzip.compress(b"not the file")
    server.files["/good/x.gz"] = body
    urls = [server.url + "/missing/x.gz", server.url + "/bad/x.gz", server.url + "/good/x.gz"]
    assert fetch.fetch_file("x.gz", str(tmp_path), fetch._check("sha256", digest, gunzip=True),
                            urls, log=lambda m: None) == urls[2]
    assert (tmp_path / "x.gz").read_bytes() == body


def test_no_good_source_names_every_url_and_where_to_put_the_file(server, tmp_path):
    _, digest = _payload()
    server.files["/bad/x.gz"] = gzip.compress(b"not the file")
    urls = [server.url + "/missing/x.gz", server.url + "/bad/x.gz"]
    with pytest.raises(data.DataError) as err:
        fetch.fetch_file("x.gz", str(tmp_path), fetch._check("sha256", digest, gunzip=True),
                         urls)
    message = str(err.value)
    assert urls[0] in message and "Not Found" in message
    assert urls[1] in message and "checksum mismatch" in message
    assert str(tmp_path / "x.gz") in message
    assert not (tmp_path / "x.gz").exists() and not (tmp_path / "x.gz.part").exists()


def test_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    body, digest = _payload()
    server.files["/a/x.gz"] = body
    server.cut["/a/x.gz"] = 200000
    check = fetch._check("sha256", digest, gunzip=True)
    urls = [server.url + "/a/x.gz"]
    with pytest.raises(data.DataError):  # the connection closed early: nothing else to try
        fetch.fetch_file("x.gz", str(tmp_path), check, urls)
    kept = (tmp_path / "x.gz.part").stat().st_size
    assert 0 < kept <= 200000
    fetch.fetch_file("x.gz", str(tmp_path), check, urls, log=lambda m: None)
    assert (tmp_path / "x.gz").read_bytes() == body
    assert server.requests[-1] == ("/a/x.gz", "bytes=%d-" % kept)


def test_a_present_but_corrupt_file_is_refused_naming_it(tmp_path):
    (tmp_path / "x.gz").write_bytes(gzip.compress(b"wrong"))
    with pytest.raises(data.DataError, match="Delete .*x.gz"):
        fetch.fetch_file("x.gz", str(tmp_path), fetch._check("sha256", "0" * 64, gunzip=True),
                         [])


@pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED_DATA, "mnist")),
                    reason="needs ../shared/data/mnist")
def test_cli_and_preflight_fetch_mnist_from_a_mirror_of_the_data_folder(server, tmp_path):
    for name in os.listdir(os.path.join(SHARED_DATA, "mnist")):
        with open(os.path.join(SHARED_DATA, "mnist", name), "rb") as f:
            server.files["/mirror/mnist/" + name] = f.read()
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop(fetch.MIRRORS_ENV, None)
    out = subprocess.run(
        [sys.executable, "-m", "reproduce", "fetch_data", "--tasks", "mnist", "--data_dir",
         str(tmp_path / "cli"), "--data_mirror", server.url + "/mirror"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert out.returncode == 0, out.stdout.decode()
    assert fetch.missing_files("mnist", str(tmp_path / "cli")) == []
    data.load_idx(str(tmp_path / "cli" / "mnist" / "t10k-labels-idx1-ubyte"),
                  data.IMAGE_TASKS["mnist"].files["t10k-labels-idx1-ubyte"])
    # run_all's preflight does the same for a missing folder, mirrors from the environment.
    os.environ[fetch.MIRRORS_ENV] = server.url + "/mirror"
    try:
        fetch.ensure(["mnist"], str(tmp_path / "preflight"), log=lambda m: None)
    finally:
        del os.environ[fetch.MIRRORS_ENV]
    assert fetch.missing_files("mnist", str(tmp_path / "preflight")) == []
    # An unknown task is refused by name.
    bad = subprocess.run([sys.executable, "-m", "reproduce", "fetch_data", "--tasks", "svhn",
                          "--data_dir", str(tmp_path / "cli")], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert bad.returncode == 2 and b"svhn" in bad.stdout
