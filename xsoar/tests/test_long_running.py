"""The long-running side: the feed loop (poll) and the webhook listener each complete an ended ask's task exactly once."""
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

import demistomock as demisto

GUID = '4ff2c3a0-1b7e-4d8f-9c1d-0a1b2c3d4e5f'
SECRET = 'whsec-' + 'x' * 26


def ended(seq, task, status='answered', via='sms', option='Yes', by='+12065550142', entitlement=None):
    entry = {'seq': seq, 'askId': f'ask/{GUID}@1042|{task}', 'entitlement': entitlement or f'{GUID}@1042|{task}', 'status': status,
             'question': f'Isolate host {task}?', 'options': ['Yes', 'No'], 'context': {}, 'endedAt': '2026-12-01T10:00:00Z'}
    if via:
        entry['answer'] = {'option': option, 'optionIndex': 0, 'via': via, 'by': by, 'at': '2026-12-01T10:00:00Z'}
    return entry


class Feed:
    """GET /v1/asks/feed over a list of entries, honouring `after` and `limit`; `gap_after` marks a dropped range."""

    def __init__(self, api, entries, gap_after=None):
        self.entries = entries
        self.gap_after = gap_after
        self.failures = 0
        api.route('GET', '/v1/asks/feed', self.answer)

    def answer(self, req):
        if self.failures:
            self.failures -= 1
            return 503, {'error': 'unavailable', 'message': 'Temporal did not answer'}
        after = int(req['query'].get('after') or 0)
        limit = int(req['query'].get('limit') or 100)
        page = [e for e in self.entries if e['seq'] > after][:limit]
        return 200, {'entries': page, 'next': str(page[-1]['seq'] if page else after),
                     'gap': self.gap_after is not None and after < self.gap_after}


def task_calls():
    return [(c['incidentID'], c['guid'], c['email'], c['content'], c['taskID']) for c in demisto.recorded('handleEntitlementForUser')]


def saved_cursors():
    return [c['context'].get('feedCursor') for c in demisto.recorded('setIntegrationContext')]


# ---- poll ----

def test_each_answer_completes_its_task_with_who_answered_and_the_option(sms_ask, api, params):
    Feed(api, [ended(1, '7'), ended(2, '8', via='manual', option='No', by='soc-lead'), ended(3, '9', via='default', option='No', by='default')])
    demisto.reset(params=params)
    assert sms_ask.poll_feed_once(sms_ask.client_from(params), {}, wait=0) == 3
    assert task_calls() == [('1042', GUID, '+12065550142', 'Yes', '7'), ('1042', GUID, 'soc-lead', 'No', '8'),
                            ('1042', GUID, 'default', 'No', '9')]
    assert saved_cursors() == ['1', '2', '3']
    [note] = demisto.recorded('addEntry')
    assert note['id'] == '1042' and 'default answer **No**' in note['entry']
    assert api.sent('GET', '/v1/asks/feed')[0]['query'] == {'after': '0', 'limit': '100', 'wait': '0'}


def test_an_ask_that_ended_with_no_answer_completes_nothing_and_says_so_in_the_war_room(sms_ask, api, params):
    Feed(api, [ended(1, '7', status='timed_out', via=None), ended(2, '8', status='cancelled', via=None)])
    demisto.reset(params=params)
    sms_ask.poll_feed_once(sms_ask.client_from(params), {}, wait=0)
    assert task_calls() == []
    notes = demisto.recorded('addEntry')
    assert [n['id'] for n in notes] == ['1042', '1042']
    assert 'timed out with no answer' in notes[0]['entry'] and 'Task 7 was **not** completed' in notes[0]['entry']
    assert 'cancelled' in notes[1]['entry']
    assert saved_cursors() == ['1', '2']


def test_entitlements_not_of_the_guid_investigation_task_shape_are_skipped_with_a_log_line(sms_ask, api, params):
    Feed(api, [ended(1, '7', entitlement='readme-1042'), ended(2, '8', entitlement=f'{GUID}@1042')])
    demisto.reset(params=params)
    sms_ask.poll_feed_once(sms_ask.client_from(params), {}, wait=0)
    assert task_calls() == [] and demisto.recorded('addEntry') == []
    logs = [c['message'] for c in demisto.recorded('log') if 'skipping' in c['message']]
    assert len(logs) == 2 and "'readme-1042' is not GUID@investigation|task" in logs[0]
    assert saved_cursors() == ['1', '2']


def test_a_restart_resumes_after_the_last_completed_entry_and_completes_nothing_twice(sms_ask, api, params, monkeypatch):
    feed = Feed(api, [ended(1, '7'), ended(2, '8'), ended(3, '9')])
    monkeypatch.setattr(sms_ask, 'TASK_ATTEMPTS', 1)
    demisto.reset(params=params)
    real = demisto.handleEntitlementForUser

    def crash_on_task_8(incident, guid, email, content, task=''):
        if task == '8':
            raise RuntimeError('the XSOAR server went away')
        real(incident, guid, email, content, task)
    monkeypatch.setattr(demisto, 'handleEntitlementForUser', crash_on_task_8)
    with pytest.raises(RuntimeError):
        sms_ask.poll_feed_once(sms_ask.client_from(params), demisto.getIntegrationContext(), wait=0)
    assert task_calls() == [('1042', GUID, '+12065550142', 'Yes', '7')]
    kept = demisto.getIntegrationContext()
    assert kept['feedCursor'] == '1'

    # The instance restarts: a new process, the same integration context.
    monkeypatch.setattr(demisto, 'handleEntitlementForUser', real)
    demisto.reset(params=params, integration_context=kept)
    sms_ask.poll_feed_once(sms_ask.client_from(params), demisto.getIntegrationContext(), wait=0)
    assert [c[4] for c in task_calls()] == ['8', '9']
    assert api.sent('GET', '/v1/asks/feed')[-1]['query']['after'] == '1'
    feed.entries.append(ended(4, '10'))
    demisto.reset(params=params, integration_context=demisto.getIntegrationContext())
    sms_ask.poll_feed_once(sms_ask.client_from(params), demisto.getIntegrationContext(), wait=0)
    assert [c[4] for c in task_calls()] == ['10']


def test_an_ask_already_handled_is_not_completed_again_even_at_a_new_position(sms_ask, api, params):
    Feed(api, [ended(1, '7'), ended(2, '7')])
    demisto.reset(params=params)
    sms_ask.poll_feed_once(sms_ask.client_from(params), {}, wait=0)
    assert len(task_calls()) == 1 and saved_cursors() == ['1', '2']


def test_a_gap_is_reported_as_an_error_and_the_entries_after_it_are_still_handled(sms_ask, api, params):
    Feed(api, [ended(5, '7')], gap_after=4)
    demisto.reset(params=params)
    sms_ask.poll_feed_once(sms_ask.client_from(params), {'feedCursor': '2'}, wait=0)
    assert [c[4] for c in task_calls()] == ['7']
    errors = [c['message'] for c in demisto.recorded('log') if c['level'] == 'error']
    assert any('dropped entries after 2' in e for e in errors)
    assert any(h['is_error'] and 'dropped entries' in h['message'] for h in demisto.recorded('updateModuleHealth'))


def test_the_loop_long_polls_rides_out_an_outage_and_stops_when_told(sms_ask, api, params):
    feed = Feed(api, [ended(1, '7')])
    feed.failures = 1
    params['feedWait'] = '1'
    demisto.reset(command='long-running-execution', params=params)
    loop = threading.Thread(target=sms_ask.main, daemon=True)
    loop.start()
    deadline = time.time() + 10
    while not task_calls() and time.time() < deadline:
        time.sleep(0.05)
    feed.entries.append(ended(2, '8'))
    while len(task_calls()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    sms_ask.STOP.set()
    loop.join(5)
    assert not loop.is_alive()
    assert [c[4] for c in task_calls()] == ['7', '8']
    assert any('reading the feed failed' in c['message'] for c in demisto.recorded('log'))
    assert {r['query']['wait'] for r in api.sent('GET', '/v1/asks/feed')} == {'1'}
    assert demisto.getIntegrationContext()['feedCursor'] == '2'


# ---- webhook ----

def free_port():
    with socket.socket() as sock:
        sock.bind(('', 0))
        return sock.getsockname()[1]


def sign(body, secret=SECRET, at=None):
    t = str(int(at if at is not None else time.time()))
    return f't={t},v1=' + hmac.new(secret.encode(), f'{t}.'.encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def listener(sms_ask, params):
    port = free_port()
    params.update(mode='webhook', longRunningPort=str(port), webhookSecret={'identifier': '', 'password': SECRET})
    demisto.reset(command='long-running-execution', params=params)
    thread = threading.Thread(target=sms_ask.main, daemon=True)
    thread.start()
    url = f'http://127.0.0.1:{port}/'
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    yield url
    sms_ask.STOP.set()
    thread.join(5)


def deliver(url, ask, delivery='webhook/ask/x/ended', signature=None, event='ask.ended'):
    body = json.dumps({'id': delivery, 'type': event, 'createdAt': '2026-12-01T10:00:00Z', 'ask': ask}).encode()
    req = urllib.request.Request(url, data=body, method='POST', headers={
        'Content-Type': 'application/json', 'Sms-Ask-Signature': signature or sign(body), 'Sms-Ask-Delivery': delivery,
        'Sms-Ask-Event': event})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_signed_delivery_completes_the_task_and_is_answered_2xx_only_after_the_call_returned(listener, monkeypatch):
    real = demisto.handleEntitlementForUser
    returned = []

    def slow(*args):
        time.sleep(0.3)
        real(*args)
        returned.append(time.time())
    monkeypatch.setattr(demisto, 'handleEntitlementForUser', slow)
    status, body = deliver(listener, ended(1, '7'))
    answered = time.time()
    assert (status, body['result']) == (200, 'completed')
    assert task_calls() == [('1042', GUID, '+12065550142', 'Yes', '7')]
    assert returned and returned[0] <= answered


def test_a_forged_or_stale_signature_is_401_and_completes_nothing(listener):
    assert deliver(listener, ended(1, '7'), signature=sign(b'another body'))[0] == 401
    assert deliver(listener, ended(1, '7'), delivery='d2', signature='t=1,v1=00')[0] == 401
    body = json.dumps({'id': 'd3', 'type': 'ask.ended', 'ask': ended(1, '7')}).encode()
    assert deliver(listener, ended(1, '7'), delivery='d3', signature=sign(body, at=time.time() - 301))[0] == 401
    assert deliver(listener, ended(1, '7'), delivery='d4', signature=sign(b'x', secret='not-the-secret-at-all'))[0] == 401
    assert task_calls() == []


def test_a_repeated_delivery_is_dropped_by_its_id(listener):
    assert deliver(listener, ended(1, '7'), delivery='webhook/ask/a/ended')[1]['result'] == 'completed'
    assert deliver(listener, ended(1, '7'), delivery='webhook/ask/a/ended') == (200, {'result': 'duplicate delivery'})
    assert len(task_calls()) == 1
    assert 'webhook/ask/a/ended' in json.loads(demisto.getIntegrationContext()['deliveries'])


def test_a_failed_task_call_is_not_2xx_so_the_worker_delivers_again(listener, monkeypatch, sms_ask):
    monkeypatch.setattr(sms_ask, 'TASK_ATTEMPTS', 1)
    real = demisto.handleEntitlementForUser
    monkeypatch.setattr(demisto, 'handleEntitlementForUser', lambda *a: (_ for _ in ()).throw(RuntimeError('busy')))
    assert deliver(listener, ended(1, '7'), delivery='d1')[0] == 500
    monkeypatch.setattr(demisto, 'handleEntitlementForUser', real)
    assert deliver(listener, ended(1, '7'), delivery='d1') == (200, {'result': 'completed'})
    assert len(task_calls()) == 1


def test_a_rotated_secret_is_accepted_and_other_events_complete_nothing(listener):
    body = json.dumps({'id': 'd1', 'type': 'ask.ended', 'createdAt': '2026-12-01T10:00:00Z', 'ask': ended(1, '7')}).encode()
    t = str(int(time.time()))
    old = hmac.new(b'old-secret-old-secret', f'{t}.'.encode() + body, hashlib.sha256).hexdigest()
    both = sign(body).replace(',v1=', f',v1={old},v1=')
    assert deliver(listener, ended(1, '7'), delivery='d1', signature=both)[0] == 200
    assert deliver(listener, ended(2, '8'), delivery='d2', event='ask.escalated') == (200, {'result': 'ignored'})
    assert [c[4] for c in task_calls()] == ['7']


def test_a_webhook_and_then_the_feed_complete_an_ask_once(listener, sms_ask, api, params):
    assert deliver(listener, ended(1, '7'), delivery='d1')[1]['result'] == 'completed'
    Feed(api, [ended(1, '7')])
    sms_ask.poll_feed_once(sms_ask.client_from(params), demisto.getIntegrationContext(), wait=0)
    assert len(task_calls()) == 1


def test_verify_signature_matches_the_documented_format(sms_ask):
    body = b'{"a":1}'
    assert sms_ask.verify_signature(SECRET, sign(body), body)
    assert not sms_ask.verify_signature(SECRET, sign(body), body + b' ')
    assert not sms_ask.verify_signature(SECRET, None, body)
    assert not sms_ask.verify_signature(SECRET, sign(body).replace('t=', 't=x'), body)
