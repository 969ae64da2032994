"""Shared fixtures: the stand-in demisto on sys.path, the pack's code loaded as XSOAR would, and a fake sms-ask API."""
import importlib.util
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
XSOAR = os.path.dirname(TESTS)
PACK = os.path.join(XSOAR, 'SmsAsk')
sys.path.insert(0, os.path.join(TESTS, 'stand_in'))
sys.path.insert(0, TESTS)

import demistomock as demisto  # noqa: E402

KEY = 'k' * 32


def load(relative, name):
    """Imports a pack file under a name of its own (its `main()` does not run: __name__ is not __main__)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(PACK, relative))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeApi:
    """A tiny sms-ask on a loopback port: routes map (method, path) to a function (request) -> (status, json)."""

    def __init__(self):
        self.requests = []
        self.routes = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                url = urlsplit(self.path)
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                request = {'method': self.command, 'path': url.path,
                           'query': {k: v[0] for k, v in parse_qs(url.query).items()},
                           'headers': dict(self.headers), 'body': json.loads(raw) if raw else None}
                api.requests.append(request)
                if self.headers.get('Authorization') != f'Bearer {KEY}':
                    status, body = 401, {'error': 'unauthorized', 'message': 'No or unknown API key.'}
                else:
                    route = api.routes.get((self.command, url.path))
                    status, body = route(request) if route else (404, {'error': 'not_found', 'message': f'no route {url.path}'})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def route(self, method, path, reply):
        self.routes[(method, path)] = reply if callable(reply) else (lambda _req, r=reply: r)

    def sent(self, method, path):
        return [r for r in self.requests if r['method'] == method and r['path'] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api():
    fake = FakeApi()
    yield fake
    fake.close()


@pytest.fixture
def params(api):
    return {'url': api.url, 'apiKey': {'identifier': '', 'password': KEY}, 'entitlementTTL': '24', 'mode': 'poll', 'feedWait': '0'}


@pytest.fixture
def sms_ask():
    module = load('Integrations/SmsAsk/SmsAsk.py', 'SmsAsk')
    module.STOP.clear()
    demisto.reset()
    yield module
    module.STOP.set()


@pytest.fixture
def script():
    demisto.reset()
    return load('Scripts/SMSAskUser/SMSAskUser.py', 'SMSAskUser')


def run_main(module):
    """main() as XSOAR runs it: return_error ends with sys.exit."""
    try:
        module.main()
    except SystemExit:
        pass


def entries():
    return [c['results'] for c in demisto.recorded('results')]


def context_of(entry):
    """The entry's context, keys without the `(val.X == obj.X)` part."""
    return {k.split('(')[0]: v for k, v in (entry.get('EntryContext') or {}).items()}
