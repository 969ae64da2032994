"""Runs the SmsAsk integration or the SMSAskUser script as XSOAR would, for end-to-end tests against a real sms-ask.

It loads the stand-in `demisto` (xsoar/tests/stand_in), sets what XSOAR would hand the code (command, args,
params, investigation), runs the file's main(), and writes every recorded call (results, executeCommand,
handleEntitlementForUser, addEntry, setIntegrationContext, updateModuleHealth, logs) as one JSON object a line.

    python xsoar/tests/xsoar_runner.py --config run.json --record calls.jsonl
    python xsoar/tests/xsoar_runner.py --target integration --command send-notification \\
        --params '{"url": "http://127.0.0.1:8080", "apiKey": {"password": "KEY"}}' \\
        --args '{"to": "+12065550142", "message": "Hello"}' --record calls.jsonl
    python xsoar/tests/xsoar_runner.py --config run.json --long-running --stop-file /tmp/stop \\
        --duration 120 --context-file ctx.json --record calls.jsonl

run.json (every key optional; command-line flags win):
    {"target": "integration" | "script",       default integration
     "command": "send-notification",           the integration command; the script ignores it
     "args": {...}, "params": {...},           params: the instance's (url, apiKey, mode, feedWait, ...)
     "investigation": {"id": "1042"},
     "integrationContext": {...},              the starting context, unless --context-file exists
     "entitlementGuid": "..."}                 what addEntitlement returns (default: a new UUID)

- The script's executeCommand('addEntitlement') answers the GUID; executeCommand of an integration command
  (send-notification ...) runs that command of the integration in this process with the same params,
  as XSOAR routes it, and hands its entries back.
- --long-running runs `long-running-execution` (the feed loop, or the webhook listener in mode webhook)
  until the file --stop-file appears or --duration seconds pass, then stops it cleanly. Use feedWait of
  1 or 2 in params so that it stops within that many seconds.
- --context-file keeps the integration context across runs (read at start, written on every save), so a
  second run is a restart of the instance.
- The record gets {"kind": "runner", "event": "started" | "listening" | "stopped"} lines too: "listening"
  once the webhook port accepts connections.
Exit status 0, or 1 when the code raised (the error is in the record as a runner line).
"""
import argparse
import importlib.util
import json
import os
import socket
import sys
import threading
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PACK = os.path.join(os.path.dirname(HERE), 'SmsAsk')
sys.path.insert(0, os.path.join(HERE, 'stand_in'))

import demistomock as demisto  # noqa: E402

FILES = {'integration': ('Integrations/SmsAsk/SmsAsk.py', 'SmsAsk'), 'script': ('Scripts/SMSAskUser/SMSAskUser.py', 'SMSAskUser')}


def load(target):
    relative, name = FILES[target]
    spec = importlib.util.spec_from_file_location(name, os.path.join(PACK, relative))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def options():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', help='a JSON file (see the docstring)')
    parser.add_argument('--target', choices=sorted(FILES))
    parser.add_argument('--command')
    parser.add_argument('--args', help='JSON object')
    parser.add_argument('--params', help='JSON object')
    parser.add_argument('--record', required=True, help='the JSON-lines file the calls are appended to')
    parser.add_argument('--long-running', action='store_true')
    parser.add_argument('--stop-file')
    parser.add_argument('--duration', type=float)
    parser.add_argument('--context-file')
    return parser.parse_args()


def save_context_to(path):
    def save(context):
        tmp = f'{path}.tmp'
        with open(tmp, 'w', encoding='utf-8') as out:
            json.dump(context, out)
        os.replace(tmp, path)
    return save


def wait_for_port(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def run_main(module):
    try:
        module.main()
    except SystemExit:
        pass


def main():
    opts = options()
    config = {}
    if opts.config:
        with open(opts.config, encoding='utf-8') as f:
            config = json.load(f)
    target = opts.target or config.get('target', 'integration')
    params = json.loads(opts.params) if opts.params else config.get('params', {})
    args = json.loads(opts.args) if opts.args else config.get('args', {})
    command = 'long-running-execution' if opts.long_running else (opts.command or config.get('command') or
                                                                   ('SMSAskUser' if target == 'script' else 'test-module'))
    context = config.get('integrationContext', {})
    if opts.context_file and os.path.exists(opts.context_file):
        with open(opts.context_file, encoding='utf-8') as f:
            context = json.load(f)

    os.environ[demisto.RECORD_ENV] = os.path.abspath(opts.record)
    demisto.reset(command=command, args=args, params=params, investigation=config.get('investigation'),
                  integration_context=context, on_context_saved=save_context_to(opts.context_file) if opts.context_file else None)
    integration = load('integration')

    def run_integration_command(name):
        def handler(command_args):
            saved = {k: demisto._state[k] for k in ('command', 'args')}
            start = len(demisto.calls)
            demisto._state.update(command=name, args=dict(command_args))
            try:
                run_main(integration)
            finally:
                demisto._state.update(saved)
            return [c['results'] for c in demisto.calls[start:] if c['kind'] == 'results']
        return handler

    guid = config.get('entitlementGuid') or str(uuid.uuid4())
    demisto.command_handlers['addEntitlement'] = [{'Type': 1, 'ContentsFormat': 'text', 'Contents': guid}]
    for name in integration.COMMANDS:
        demisto.command_handlers[name] = run_integration_command(name)

    module = load('script') if target == 'script' else integration
    demisto._record('runner', event='started', target=target, command=command)
    failed = []

    def guarded():
        try:
            run_main(module)
        except Exception as err:  # recorded, and the exit status says so
            failed.append(err)
            demisto._record('runner', event='error', error=f'{err}', traceback=traceback.format_exc())

    if not opts.long_running:
        guarded()
    else:
        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        if params.get('mode') == 'webhook' and params.get('longRunningPort'):
            if wait_for_port(int(params['longRunningPort'])):
                demisto._record('runner', event='listening', port=int(params['longRunningPort']))
        ends = time.time() + opts.duration if opts.duration else None
        while thread.is_alive():
            if (opts.stop_file and os.path.exists(opts.stop_file)) or (ends and time.time() >= ends):
                break
            time.sleep(0.1)
        integration.STOP.set()
        thread.join(30)
    demisto._record('runner', event='stopped', failed=bool(failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
