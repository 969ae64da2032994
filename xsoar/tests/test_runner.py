"""xsoar_runner.py, as the end-to-end tests drive it: a separate process, its calls read from the record file."""
import json
import os
import subprocess
import sys
import time

from conftest import KEY, TESTS
from test_long_running import GUID, Feed, ended

RUNNER = os.path.join(TESTS, 'xsoar_runner.py')


def records(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def run(tmp_path, *flags, config=None, wait=True):
    record = tmp_path / 'calls.jsonl'
    argv = [sys.executable, RUNNER, '--record', str(record), *flags]
    if config is not None:
        (tmp_path / 'run.json').write_text(json.dumps(config))
        argv += ['--config', str(tmp_path / 'run.json')]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if wait:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out.decode()
    return proc, record


def test_the_script_runs_addentitlement_then_the_integrations_send_notification(tmp_path, api):
    api.route('POST', '/v1/asks', lambda req: (201, {'askId': 'ask/' + req['body']['entitlement'], 'entitlement': req['body']['entitlement'], 'created': True}))
    _, record = run(tmp_path, config={
        'target': 'script', 'args': {'phone': '+12065550142', 'message': 'Isolate?', 'task': '7'}, 'investigation': {'id': '1042'},
        'entitlementGuid': GUID, 'params': {'url': api.url, 'apiKey': {'password': KEY}}})
    assert api.sent('POST', '/v1/asks')[0]['body']['entitlement'] == f'{GUID}@1042|7'
    kinds = [(r['kind'], r.get('event') or r.get('command')) for r in records(record) if r['kind'] in ('executeCommand', 'runner')]
    assert kinds == [('runner', 'started'), ('executeCommand', 'addEntitlement'), ('executeCommand', 'send-notification'), ('runner', 'stopped')]
    final = [r for r in records(record) if r['kind'] == 'results'][-1]['results']
    assert final[0]['EntryContext']


def test_long_running_stops_on_the_stop_file_and_a_second_run_resumes_from_the_saved_cursor(tmp_path, api):
    feed = Feed(api, [ended(1, '7'), ended(2, '8')])
    params = {'url': api.url, 'apiKey': {'password': KEY}, 'feedWait': '1'}
    stop = tmp_path / 'stop'
    context = tmp_path / 'ctx.json'
    flags = ['--target', 'integration', '--params', json.dumps(params), '--long-running', '--stop-file', str(stop),
             '--context-file', str(context)]
    proc, record = run(tmp_path, *flags, wait=False)
    deadline = time.time() + 20
    while time.time() < deadline and not (context.exists() and json.loads(context.read_text()).get('feedCursor') == '2'):
        time.sleep(0.1)
    stop.write_text('')
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    first = [r['taskID'] for r in records(record) if r['kind'] == 'handleEntitlementForUser']
    assert first == ['7', '8']

    stop.unlink()
    feed.entries.append(ended(3, '9'))
    proc, record = run(tmp_path, *flags, '--duration', '3', wait=False)
    proc.communicate(timeout=30)
    tasks = [r['taskID'] for r in records(record) if r['kind'] == 'handleEntitlementForUser']
    assert tasks == ['7', '8', '9']
    assert api.sent('GET', '/v1/asks/feed')[-1]['query']['after'] == '3'
