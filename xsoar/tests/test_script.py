"""SMSAskUser: addEntitlement, then send-notification with the entitlement and the options."""
import json

import demistomock as demisto
from conftest import entries, run_main

GUID = '4ff2c3a0-1b7e-4d8f-9c1d-0a1b2c3d4e5f'


def run(script, args):
    demisto.reset(command='SMSAskUser', args=args, investigation={'id': '1042'})
    demisto.command_handlers['addEntitlement'] = [{'Type': 1, 'ContentsFormat': 'text', 'Contents': GUID}]
    demisto.command_handlers['send-notification'] = [{'Type': 1, 'ContentsFormat': 'json', 'Contents': {'ok': True}}]
    run_main(script)
    return [c for c in demisto.recorded('executeCommand')]


def test_it_makes_the_entitlement_and_sends_it_with_the_options_to_every_phone(script):
    add, send = run(script, {'phone': '+12065550142,+12065550143', 'message': 'Isolate WS-042?', 'option1': 'Isolate',
                             'option2': 'Keep', 'option3': 'Escalate', 'task': '7', 'replyEntriesTag': 'sms', 'persistent': 'true',
                             'defaultOption': 'Keep', 'timeout': '15m', 'policy': 'oncall'})
    assert add['command'] == 'addEntitlement' and add['args'] == {'persistent': 'true', 'replyEntriesTag': 'sms'}
    assert send['command'] == 'send-notification'
    assert send['args'] == {'to': '+12065550142,+12065550143', 'message': 'Isolate WS-042?', 'entitlement': f'{GUID}@1042|7',
                            'options': json.dumps(['Isolate', 'Keep', 'Escalate']), 'using-brand': 'SmsAsk',
                            'defaultOption': 'Keep', 'timeout': '15m', 'policy': 'oncall'}
    assert entries() == [[{'Type': 1, 'ContentsFormat': 'json', 'Contents': {'ok': True}}]]


def test_the_options_default_to_yes_and_no_and_without_a_task_the_entitlement_has_none(script):
    _, send = run(script, {'phone': '+12065550142', 'message': 'OK?'})
    assert send['args']['entitlement'] == f'{GUID}@1042'
    assert json.loads(send['args']['options']) == ['yes', 'no']
    assert 'defaultOption' not in send['args'] and 'timeout' not in send['args']


def test_a_default_option_that_is_not_an_option_is_refused_before_anything_is_sent(script):
    calls = run(script, {'phone': '+12065550142', 'message': 'OK?', 'defaultOption': 'maybe'})
    assert calls == []
    assert entries()[0]['Type'] == 4 and 'not one of the options' in entries()[0]['Contents']


def test_a_failed_add_entitlement_is_an_error_and_nothing_is_sent(script):
    demisto.reset(command='SMSAskUser', args={'phone': '+1', 'message': 'Q'}, investigation={'id': '1'})
    demisto.command_handlers['addEntitlement'] = [{'Type': 4, 'ContentsFormat': 'text', 'Contents': 'no playbook'}]
    run_main(script)
    assert [c['command'] for c in demisto.recorded('executeCommand')] == ['addEntitlement']
    assert 'no playbook' in entries()[0]['Contents']


def test_the_script_and_the_integration_together_start_one_ask(script, sms_ask, api, params):
    """send-notification routed to the integration, as XSOAR does: the ask carries the script's entitlement."""
    api.route('POST', '/v1/asks', lambda req: (201, {'askId': 'ask/' + req['body']['entitlement'], 'entitlement': req['body']['entitlement'], 'created': True}))
    demisto.reset(command='SMSAskUser', args={'phone': '+12065550142', 'message': 'Isolate?', 'task': '7', 'defaultOption': 'no'},
                  investigation={'id': '1042'})
    demisto.command_handlers['addEntitlement'] = [{'Type': 1, 'Contents': GUID}]

    def send_notification(args):
        result = sms_ask.send_notification(sms_ask.client_from(params), args, params)
        return [result.to_context()]
    demisto.command_handlers['send-notification'] = send_notification
    run_main(script)
    [req] = api.sent('POST', '/v1/asks')
    assert req['body']['entitlement'] == f'{GUID}@1042|7'
    assert req['body']['options'] == ['yes', 'no'] and req['body']['defaultAnswer'] == 'no' and req['body']['feed'] is True
