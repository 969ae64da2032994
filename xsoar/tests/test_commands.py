"""The integration's commands: arguments to sms-ask requests, answers to context, and test-module's messages."""
import socket
import threading

import demistomock as demisto
from conftest import context_of, entries, run_main

ENTITLEMENT = '4ff2c3a0-1b7e-4d8f-9c1d-0a1b2c3d4e5f@1042|7'


def run(sms_ask, command, args, params):
    demisto.reset(command=command, args=args, params=params, investigation={'id': '1042'})
    run_main(sms_ask)
    return entries()


def test_send_notification_with_an_entitlement_starts_an_ask_with_feed_options_timeout_and_default(sms_ask, api, params):
    api.route('POST', '/v1/asks', (201, {'askId': f'ask/{ENTITLEMENT}', 'entitlement': ENTITLEMENT, 'created': True}))
    out = run(sms_ask, 'send-notification', {'to': '+12065550142,+12065550143', 'message': 'Isolate WS-042?',
                                             'entitlement': ENTITLEMENT, 'options': '["Yes","No"]', 'defaultOption': 'No',
                                             'policy': 'oncall'}, params)
    [req] = api.sent('POST', '/v1/asks')
    assert req['body'] == {'to': ['+12065550142', '+12065550143'], 'question': 'Isolate WS-042?', 'entitlement': ENTITLEMENT,
                           'feed': True, 'options': ['Yes', 'No'], 'timeout': '24h', 'defaultAnswer': 'No', 'preset': 'oncall',
                           'context': {'source': 'xsoar', 'incident': '1042', 'task': '7'}}
    ctx = context_of(out[0])['AWS.SNS.SMS']
    assert [c['PhoneNumber'] for c in ctx] == ['+12065550142', '+12065550143']
    assert ctx[0]['Entitlement'] == ENTITLEMENT and ctx[0]['MessageId'] == f'ask/{ENTITLEMENT}'
    assert set(ctx[0]) >= {'MessageId', 'PhoneNumber', 'Entitlement', 'ReplyCode'}
    assert not api.sent('POST', '/v1/sms')


def test_the_scripts_timeout_wins_over_the_ttl_and_a_json_policy_goes_as_the_policy(sms_ask, api, params):
    api.route('POST', '/v1/asks', (200, {'askId': 'ask/x', 'entitlement': ENTITLEMENT, 'created': False}))
    out = run(sms_ask, 'send-notification', {'to': '+12065550142', 'message': 'Q?', 'entitlement': ENTITLEMENT,
                                             'timeout': '15m', 'policy': '{"reminders": {"every": "5m", "max": 2}}'}, params)
    body = api.sent('POST', '/v1/asks')[0]['body']
    assert body['timeout'] == '15m' and body['policy'] == {'reminders': {'every': '5m', 'max': 2}}
    assert 'options' not in body and 'preset' not in body
    assert 'Already asked' in out[0]['HumanReadable']


def test_webhook_mode_adds_the_callback_with_its_secret_and_authorization_names(sms_ask, api, params):
    api.route('POST', '/v1/asks', (201, {'askId': 'ask/x', 'entitlement': ENTITLEMENT, 'created': True}))
    params.update(mode='webhook', callbackUrl='https://ext-t.example.com/xsoar/instance/execute/sms', callbackSecretName='xsoar',
                  callbackAuthorization='xsoar-basic')
    run(sms_ask, 'send-notification', {'to': '+12065550142', 'message': 'Q?', 'entitlement': ENTITLEMENT}, params)
    assert api.sent('POST', '/v1/asks')[0]['body']['callback'] == {
        'url': 'https://ext-t.example.com/xsoar/instance/execute/sms', 'events': ['ended'], 'secretName': 'xsoar',
        'authorization': 'xsoar-basic'}


def test_the_old_scripts_text_with_the_entitlement_inside_still_starts_an_ask(sms_ask, api, params):
    api.route('POST', '/v1/asks', (201, {'askId': 'ask/x', 'entitlement': ENTITLEMENT, 'created': True}))
    run(sms_ask, 'send-notification', {'to': '+12065550142', 'message': f'Block the IP? - Reply yes or no: {ENTITLEMENT}'}, params)
    body = api.sent('POST', '/v1/asks')[0]['body']
    assert (body['question'], body['options'], body['entitlement']) == ('Block the IP?', ['yes', 'no'], ENTITLEMENT)


def test_send_notification_without_an_entitlement_is_a_one_way_sms_to_each_phone(sms_ask, api, params):
    api.route('POST', '/v1/sms', lambda req: (200, {'to': req['body']['to'], 'messageId': 'm-' + req['body']['to'][-2:],
                                                    'segments': 1, 'encoding': 'GSM-7', 'smsId': 's'}))
    out = run(sms_ask, 'send-notification', {'to': '+12065550142, +12065550143', 'message': 'Maintenance at 22:00'}, params)
    assert [r['body'] for r in api.sent('POST', '/v1/sms')] == [
        {'to': '+12065550142', 'message': 'Maintenance at 22:00'}, {'to': '+12065550143', 'message': 'Maintenance at 22:00'}]
    assert [c['MessageId'] for c in context_of(out[0])['AWS.SNS.SMS']] == ['m-42', 'm-43']
    assert not api.sent('POST', '/v1/asks')


def test_a_refused_ask_is_an_error_entry_with_the_servers_words(sms_ask, api, params):
    api.route('POST', '/v1/asks', (400, {'error': 'invalid_request', 'message': '"12345" is not a valid phone number'}))
    out = run(sms_ask, 'send-notification', {'to': '12345', 'message': 'Q?', 'entitlement': ENTITLEMENT}, params)
    assert out[0]['Type'] == 4 and 'not a valid phone number' in out[0]['Contents']


def test_list_entitlements_maps_pending_asks_and_with_show_answered_the_ended_ones(sms_ask, api, params):
    api.route('GET', '/v1/asks/pending', (200, {'asks': [{
        'askId': f'ask/{ENTITLEMENT}', 'entitlement': ENTITLEMENT, 'question': 'Isolate?', 'recipients': ['+12065550142', '+12065550143'],
        'codes': {'+12065550142': [{'option': 'Yes', 'code': '1234'}, {'option': 'No', 'code': '5678'}]},
        'startedAt': '2026-01-01T00:00:00Z', 'deadline': '2026-01-02T00:00:00Z', 'tier': 0, 'remindersSent': 0,
        'policy': 'default', 'context': {}}]}))
    api.route('GET', '/v1/asks/ended', (200, {'asks': [
        {'askId': 'ask/e1', 'entitlement': 'g@1|2', 'question': 'Old?', 'status': 'answered', 'startedAt': '2026-01-01T00:00:00Z',
         'endedAt': '2026-01-01T01:00:00Z', 'policy': 'default',
         'answer': {'option': 'No', 'optionIndex': 1, 'via': 'sms', 'by': '+12065550142', 'at': '2026-01-01T01:00:00Z'}},
        {'askId': 'ask/e2', 'entitlement': 'g@1|3', 'question': 'Other?', 'status': 'timed_out', 'startedAt': '2026-01-01T00:00:00Z',
         'endedAt': '2026-01-01T01:00:00Z', 'policy': 'default'}]}))
    out = run(sms_ask, 'aws-sns-sms-list-entitlements', {'phone_number': '+12065550142', 'show_answered': 'true', 'show_codes': 'true'}, params)
    assert api.sent('GET', '/v1/asks/pending')[0]['query'] == {'to': '+12065550142', 'codes': 'true'}
    assert api.sent('GET', '/v1/asks/ended')[0]['query'] == {'since': '24h', 'limit': '200'}
    rows = context_of(out[0])['AWS.SNS.SMS.Entitlement']
    assert [(r['EntitlementID'], r['PhoneNumber'], r['Answered']) for r in rows] == [
        (ENTITLEMENT, '+12065550142', False), ('g@1|2', '+12065550142', True)]
    assert rows[0]['ReplyCode'] == 'Yes=1234, No=5678' and rows[0]['Message'] == 'Isolate?' and rows[0]['AgeHours'] > 0
    assert rows[1]['AnsweredAt'] == '2026-01-01T01:00:00Z'
    assert set(rows[0]) >= {'EntitlementID', 'PhoneNumber', 'ReplyCode', 'Message', 'Created', 'AgeHours', 'Answered', 'AnsweredAt'}


def test_list_entitlements_without_a_phone_lists_every_recipient(sms_ask, api, params):
    api.route('GET', '/v1/asks/pending', (200, {'asks': [{
        'askId': 'ask/a', 'entitlement': 'a', 'question': 'Q', 'recipients': ['+1', '+2'], 'startedAt': '2026-01-01T00:00:00Z',
        'deadline': '2026-01-02T00:00:00Z', 'tier': 0, 'remindersSent': 0, 'policy': 'default', 'context': {}}]}))
    out = run(sms_ask, 'aws-sns-sms-list-entitlements', {}, params)
    assert api.sent('GET', '/v1/asks/pending')[0]['query'] == {}
    assert [r['PhoneNumber'] for r in context_of(out[0])['AWS.SNS.SMS.Entitlement']] == ['+1', '+2']
    assert not api.sent('GET', '/v1/asks/ended')


def test_inject_reply_posts_the_reply_and_maps_the_outcome(sms_ask, api, params):
    api.route('POST', '/v1/replies', (200, {'outcome': 'answered', 'askId': f'ask/{ENTITLEMENT}', 'entitlement': ENTITLEMENT,
                                            'option': 'Yes', 'optionIndex': 0, 'message': 'Answered Yes'}))
    out = run(sms_ask, 'aws-sns-sms-inject-reply', {'phone_number': '+12065550142', 'reply_code': '1418'}, params)
    assert api.sent('POST', '/v1/replies')[0]['body'] == {'from': '+12065550142', 'text': '1418'}
    assert context_of(out[0])['AWS.SNS.SMS.TestReply'] == {
        'Success': True, 'PhoneNumber': '+12065550142', 'ReplyCode': '1418', 'ChosenOption': 'Yes',
        'EntitlementGUID': '4ff2c3a0-1b7e-4d8f-9c1d-0a1b2c3d4e5f', 'IncidentID': '1042', 'TaskID': '7', 'Error': None,
        'AskId': f'ask/{ENTITLEMENT}'}


def test_a_refused_injected_reply_is_success_false_with_the_reason(sms_ask, api, params):
    api.route('POST', '/v1/replies', (200, {'outcome': 'refused', 'message': 'No ask waits for 9999 from this phone.'}))
    out = run(sms_ask, 'aws-sns-sms-inject-reply', {'phone_number': '+12065550142', 'reply_code': '9999'}, params)
    reply = context_of(out[0])['AWS.SNS.SMS.TestReply']
    assert reply['Success'] is False and reply['Error'] == 'No ask waits for 9999 from this phone.' and reply['TaskID'] is None


def test_injected_replies_switched_off_say_which_setting_turns_them_on(sms_ask, api, params):
    api.route('POST', '/v1/replies', (403, {'error': 'injected_replies_disabled', 'message': 'Injected replies are disabled.'}))
    out = run(sms_ask, 'aws-sns-sms-inject-reply', {'phone_number': '+12065550142', 'reply_code': '1418'}, params)
    assert out[0]['Type'] == 4 and 'SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES=true' in out[0]['Contents']


# ---- test-module ----

def healthy(api, scope='operate', polling=True):
    api.route('GET', '/v1/caller', (200, {'name': 'xsoar', 'scope': scope}))
    api.route('GET', '/v1/health', (200, {'workerPolling': polling, 'taskQueue': 'sms-ask'}))


def test_module_answers_ok_when_the_key_may_operate_and_a_worker_polls(sms_ask, api, params):
    healthy(api)
    assert run(sms_ask, 'test-module', {}, params) == ['ok']


def test_module_says_when_the_url_does_not_answer(sms_ask, params):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    params['url'] = f'http://127.0.0.1:{port}'
    [message] = run(sms_ask, 'test-module', {}, params)
    assert 'Cannot reach sms-ask' in message and 'Check the URL' in message


def test_module_says_when_the_key_is_refused(sms_ask, api, params):
    healthy(api)
    params['apiKey'] = {'password': 'wrong' * 6}
    [message] = run(sms_ask, 'test-module', {}, params)
    assert 'API key was refused' in message


def test_module_says_when_the_key_may_only_read(sms_ask, api, params):
    healthy(api, scope='read')
    [message] = run(sms_ask, 'test-module', {}, params)
    assert 'scope read' in message and 'operate' in message


def test_module_says_when_no_worker_polls(sms_ask, api, params):
    healthy(api, polling=False)
    [message] = run(sms_ask, 'test-module', {}, params)
    assert 'No sms-ask worker polls the task queue "sms-ask"' in message


def test_module_says_when_the_server_is_too_old_for_the_health_check(sms_ask, api, params):
    api.route('GET', '/v1/caller', (200, {'name': 'xsoar', 'scope': 'operate'}))
    [message] = run(sms_ask, 'test-module', {}, params)
    assert 'no /v1/health' in message


def test_module_in_webhook_mode_says_when_the_port_is_taken(sms_ask, api, params):
    healthy(api)
    with socket.socket() as taken:
        taken.bind(('', 0))
        taken.listen()
        port = taken.getsockname()[1]
        params.update(mode='webhook', longRunningPort=str(port), webhookSecret={'password': 's' * 20},
                      callbackUrl='https://xsoar.example.com/instance/execute/sms')
        [message] = run(sms_ask, 'test-module', {}, params)
    assert f'Port {port} cannot be used' in message


def test_module_in_webhook_mode_says_when_the_secret_is_missing(sms_ask, api, params):
    healthy(api)
    params.update(mode='webhook', longRunningPort='1', callbackUrl='https://x')
    [message] = run(sms_ask, 'test-module', {}, params)
    assert 'webhook secret' in message


def test_a_missing_api_key_says_where_to_set_it(sms_ask, api, params):
    params['apiKey'] = {}
    out = run(sms_ask, 'test-module', {}, params)
    assert out[0]['Type'] == 4 and 'API key' in out[0]['Contents']


def test_module_in_webhook_mode_accepts_the_port_held_by_its_own_running_listener(sms_ask, api, params):
    healthy(api)
    with socket.socket() as sock:
        sock.bind(('', 0))
        port = sock.getsockname()[1]
    params.update(mode='webhook', longRunningPort=str(port), webhookSecret={'password': 's' * 20},
                  callbackUrl='https://xsoar.example.com/instance/execute/sms')
    server = sms_ask.make_listener(params)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    try:
        assert run(sms_ask, 'test-module', {}, params) == ['ok']
    finally:
        server.shutdown()
        server.server_close()
