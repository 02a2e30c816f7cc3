#!/usr/bin/env python3
"""A test stand-in for the Kubernetes API server, for rbx's kubernetes guard.

No real kube-apiserver can be installed here (Debian ships only clients), so this
serves exactly the calls rbx makes, with the real API's paths, verbs, bodies and
status codes:

  GET   /api/v1/nodes/{name}                          200 Node | 404 Status
  PATCH /api/v1/nodes/{name}   application/merge-patch+json (RFC 7386: null deletes)
                                                      200 Node | 404 | 415 Status
  GET   /api/v1/pods?fieldSelector=spec.nodeName={n}  200 PodList
  POST  /api/v1/namespaces/{ns}/pods/{name}/eviction  policy/v1 Eviction
        201 Status Success | 429 Status TooManyRequests (a PodDisruptionBudget
        blocks; the pod's "x-pdb-blocks" count says how many times) | 404 Status

For the tests of rbx under faults, the state's "faults" list makes the next requests
fail, each {"path": PREFIX, "kind": "500" | "timeout" | "reset", "times": N}: a 500
Status (as an apiserver whose etcd is away answers), an answer held back 3 s (past the
client's timeout), or the connection reset with no answer.

It does not cover watches, other resources, field selectors other than
spec.nodeName, resourceVersion conflicts, or real authorization: a bearer token,
when configured, must match, and with TLS a client certificate signed by the test
CA is required (401 Status otherwise). State comes from a JSON file and is written
back after every change so a test can read it.

usage: fake_apiserver.py STATE.json PORT [--token T] [--tls CERT KEY CA]
"""
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

STATE_PATH = sys.argv[1]
PORT = int(sys.argv[2])
TOKEN = sys.argv[sys.argv.index("--token") + 1] if "--token" in sys.argv else None
TLS = sys.argv[sys.argv.index("--tls") + 1:sys.argv.index("--tls") + 4] if "--tls" in sys.argv else None
LOCK = threading.Lock()
with open(STATE_PATH) as f:
    STATE = json.load(f)
STATE.setdefault("requests", [])


def save():
    with open(STATE_PATH + ".tmp", "w") as f:
        json.dump(STATE, f, indent=1)
    import os
    os.replace(STATE_PATH + ".tmp", STATE_PATH)


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {},
         "status": "Success" if code < 400 else "Failure", "message": message,
         "reason": reason, "code": code}
    if details:
        s["details"] = details
    return code, s


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        if TOKEN and self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.reply(*status(401, "Unauthorized", "Unauthorized"))
            return False
        return True

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self, method):
        if not self.authorized():
            return
        url = urlparse(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        raw = self.body()
        with LOCK:
            STATE["requests"].append({"method": method, "path": self.path,
                                      "content_type": self.headers.get("Content-Type")})
            fault = None
            for f in STATE.get("faults", []):
                if self.path.startswith(f["path"]) and f.get("times", 0) > 0:
                    f["times"] -= 1
                    fault = f["kind"]
                    break
            save()
        if fault == "500":
            self.reply(*status(500, "InternalError", "an error on the server (\"etcdserver: request timed out\") has prevented the request from succeeding"))
            return
        if fault == "reset":
            import socket
            import struct
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if fault == "timeout":
            import time
            time.sleep(3)
        with LOCK:
            code, out = self.route(method, parts, parse_qs(url.query), raw)
            save()
        self.reply(code, out)

    def route(self, method, parts, query, raw):
        nodes, pods = STATE["nodes"], STATE["pods"]
        if parts[:3] == ["api", "v1", "nodes"] and len(parts) == 4:
            name = parts[3]
            if name not in nodes:
                return status(404, "NotFound", 'nodes "%s" not found' % name,
                              {"name": name, "kind": "nodes"})
            if method == "GET":
                return 200, nodes[name]
            if method == "PATCH":
                if self.headers.get("Content-Type") != "application/merge-patch+json":
                    return status(415, "UnsupportedMediaType", "the body of the request was in an unknown format")
                nodes[name] = merge_patch(nodes[name], json.loads(raw))
                return 200, nodes[name]
        if parts == ["api", "v1", "pods"] and method == "GET":
            sel = query.get("fieldSelector", [""])[0]
            want = sel.split("=", 1)[1] if sel.startswith("spec.nodeName=") else None
            items = [p for p in pods if want is None or p["spec"].get("nodeName") == want]
            return 200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}
        if (parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 7 and parts[4] == "pods"
                and parts[6] == "eviction" and method == "POST"):
            ns, name = parts[3], parts[5]
            ev = json.loads(raw or b"{}")
            if ev.get("kind") != "Eviction" or ev.get("apiVersion") != "policy/v1":
                return status(400, "BadRequest", "the body is not a policy/v1 Eviction")
            for p in pods:
                if p["metadata"]["name"] == name and p["metadata"]["namespace"] == ns:
                    if p.get("x-pdb-blocks", 0) != 0:
                        if p["x-pdb-blocks"] > 0:
                            p["x-pdb-blocks"] -= 1
                        return status(429, "TooManyRequests",
                                      "Cannot evict pod as it would violate the pod's disruption budget.",
                                      {"causes": [{"reason": "DisruptionBudget",
                                                   "message": "The disruption budget %s-pdb needs 1 healthy pods and has 1 currently" % name}]})
                    pods.remove(p)
                    STATE.setdefault("evicted", []).append(ns + "/" + name)
                    return status(201, "", "")
            return status(404, "NotFound", 'pods "%s" not found' % name, {"name": name, "kind": "pods"})
        return status(404, "NotFound", "the server could not find the requested resource")

    def do_GET(self):
        self.handle_any("GET")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_POST(self):
        self.handle_any("POST")


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
if TLS:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS[0], TLS[1])
    ctx.load_verify_locations(TLS[2])
    ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
