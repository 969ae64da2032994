"""A stand-in for XSOAR's `demisto` object, written from its documented signatures.

Only what the SmsAsk pack calls. Every call that leaves a trace in XSOAR (results, executeCommand,
handleEntitlementForUser, addEntry, setIntegrationContext, updateModuleHealth, logs) is recorded in
`calls`, and, when the environment variable SMS_ASK_XSOAR_RECORD names a file, appended to it as one
JSON object a line, so a test outside this process can read what the pack did.

Tests set the state with `reset(...)` and route executeCommand with `command_handlers`.
"""
import json
import os
import threading
import time

RECORD_ENV = 'SMS_ASK_XSOAR_RECORD'

calls = []
command_handlers = {}
_lock = threading.Lock()
_state = {}


def reset(command='', args=None, params=None, investigation=None, incident=None, integration_context=None,
          on_context_saved=None):
    """Starts a fresh run: what XSOAR would hand the code, and no recorded calls."""
    _state.clear()
    _state.update({
        'command': command,
        'args': dict(args or {}),
        'params': dict(params or {}),
        'investigation': dict(investigation or {'id': '1'}),
        'incident': dict(incident or {'id': (investigation or {}).get('id', '1')}),
        'integration_context': json.loads(json.dumps(integration_context or {})),
        'on_context_saved': on_context_saved,
    })
    del calls[:]
    command_handlers.clear()


def _record(kind, **data):
    entry = {'kind': kind, 'at': time.time(), **data}
    with _lock:
        calls.append(entry)
        path = os.environ.get(RECORD_ENV)
        if path:
            with open(path, 'a', encoding='utf-8') as out:
                out.write(json.dumps(entry, default=str) + '\n')
    return entry


def recorded(kind):
    return [c for c in calls if c['kind'] == kind]


reset()


def command():
    return _state['command']


def args():
    return _state['args']


def params():
    return _state['params']


def investigation():
    return _state['investigation']


def incident():
    return _state['incident']


def incidents():
    return [_state['incident']]


def integrationInstance():
    return _state['params'].get('_instance', 'SmsAsk_instance_1')


def results(results):
    _record('results', results=results)


def executeCommand(command, args):
    _record('executeCommand', command=command, args=args)
    handler = command_handlers.get(command)
    if handler is None:
        return [{'Type': 4, 'ContentsFormat': 'text', 'Contents': f'Unsupported Command: {command}'}]
    return handler(args) if callable(handler) else handler


def getIntegrationContext():
    with _lock:
        return json.loads(json.dumps(_state['integration_context']))


def setIntegrationContext(context):
    with _lock:
        _state['integration_context'] = json.loads(json.dumps(context))
    _record('setIntegrationContext', context=json.loads(json.dumps(context)))
    if _state.get('on_context_saved'):
        _state['on_context_saved'](context)


def handleEntitlementForUser(incidentID, guid, email, content, taskID=''):
    _record('handleEntitlementForUser', incidentID=incidentID, guid=guid, email=email, content=content, taskID=taskID)


def addEntry(id, entry, username=None, email=None, footer=None):
    _record('addEntry', id=id, entry=entry, username=username, email=email, footer=footer)


def updateModuleHealth(message, is_error=False):
    _record('updateModuleHealth', message=message, is_error=is_error)


def info(msg, *args):
    _record('log', level='info', message=str(msg))


def debug(msg, *args):
    _record('log', level='debug', message=str(msg))


def error(msg, *args):
    _record('log', level='error', message=str(msg))


def log(msg):
    _record('log', level='log', message=str(msg))
