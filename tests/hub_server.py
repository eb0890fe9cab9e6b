"""A minimal Hugging Face Hub file server on 127.0.0.1 for tests (loopback only, bounded life).

It serves what ``huggingface_hub.hf_hub_download`` calls (read from huggingface_hub's
``file_download.get_hf_file_metadata`` / ``http_get`` and ``utils._http.hf_raise_for_status``):

- ``HEAD`` and ``GET /{repo_id}/resolve/{revision}/{filename}`` with ``X-Repo-Commit``, ``ETag``
  and ``Content-Length``; unknown repo / revision / file answer 404 with ``X-Error-Code``
  ``RepoNotFound`` / ``RevisionNotFound`` / ``EntryNotFound`` (what the client maps to its errors);
- ``GET /api/models/{repo_id}/revision/{revision}``: model info with the resolved ``sha``.

``die_on`` names a file whose GET sends half of its bytes and then kills the server (the socket
is closed and the listener shut), like a server that dies mid-file. The server shuts itself down
after ``lifetime_s`` in any case.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


class HubRepo:
    """Files of one repo per commit, and branch names pointing at commits."""

    def __init__(self) -> None:
        self.commits: dict[str, dict[str, bytes]] = {}
        self.branches: dict[str, str] = {}

    def commit(self, files: dict[str, bytes], branch: str = "main") -> str:
        """Add a commit with ``files``; returns its 40-hex sha and moves ``branch`` to it."""
        h = hashlib.sha1(json.dumps(sorted((k, v.hex()) for k, v in files.items())).encode())
        sha = h.hexdigest()
        self.commits[sha] = dict(files)
        self.branches[branch] = sha
        return sha

    def resolve(self, revision: str) -> str | None:
        if revision in self.commits:
            return revision
        return self.branches.get(revision)


class HubServer:
    """Serves ``repos`` on an ephemeral loopback port; use as a context manager."""

    def __init__(
        self, repos: dict[str, HubRepo], die_on: str | None = None, lifetime_s: float = 60.0
    ) -> None:
        self.repos = repos
        self.die_on = die_on
        self.lifetime_s = lifetime_s
        self.requests: list[tuple[str, str]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> HubServer:
        self._thread.start()
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _error(self, code: int, error_code: str, commit: str | None = None) -> None:
                body = json.dumps({"error": error_code}).encode()
                self.send_response(code)
                self.send_header("X-Error-Code", error_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if commit:
                    self.send_header("X-Repo-Commit", commit)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _route(self) -> None:
                path = unquote(self.path.split("?", 1)[0])
                server.requests.append((self.command, path))
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "revision":
                    return self._model_info("/".join(parts[2:4]), "/".join(parts[5:]))
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]))
                return self._error(404, "RepoNotFound")

            def _model_info(self, repo_id: str, revision: str) -> None:
                repo = server.repos.get(repo_id)
                if repo is None:
                    return self._error(404, "RepoNotFound")
                sha = repo.resolve(revision)
                if sha is None:
                    return self._error(404, "RevisionNotFound")
                files = [{"rfilename": f} for f in sorted(repo.commits[sha])]
                body = json.dumps({"id": repo_id, "sha": sha, "siblings": files}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
                repo = server.repos.get(repo_id)
                if repo is None:
                    return self._error(404, "RepoNotFound")
                sha = repo.resolve(revision)
                if sha is None:
                    return self._error(404, "RevisionNotFound")
                data = repo.commits[sha].get(filename)
                if data is None:
                    return self._error(404, "EntryNotFound", commit=sha)
                etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                self.send_response(200)
                self.send_header("X-Repo-Commit", sha)
                self.send_header("ETag", f'"{etag}"')
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                if self.command == "HEAD":
                    return None
                if server.die_on == filename:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    threading.Thread(target=server.stop, daemon=True).start()
                    return None
                self.wfile.write(data)
                return None

            def do_HEAD(self) -> None:
                self._route()

            def do_GET(self) -> None:
                self._route()

        return Handler
