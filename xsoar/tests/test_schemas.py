"""The pack's YAML against the schemas demisto-sdk validates with (read from its wheel, which bootstrap --xsoar fetches)."""
import glob
import os
import zipfile

import pytest
from ruamel.yaml import YAML
from pykwalify.core import Core
from pykwalify.errors import SchemaError

from conftest import PACK, XSOAR

ROOT = os.path.dirname(XSOAR)
SCHEMAS = 'demisto_sdk/commands/common/schemas/'
ITEMS = [
    ('Integrations/SmsAsk/SmsAsk.yml', 'integration.yml'),
    ('Scripts/SMSAskUser/SMSAskUser.yml', 'script.yml'),
    ('Playbooks/playbook-SMS_Ask_Example.yml', 'playbook.yml'),
]


@pytest.fixture(scope='module')
def schema_dir(tmp_path_factory):
    wheel = os.environ.get('SMS_ASK_DEMISTO_SDK_WHEEL') or next(iter(sorted(glob.glob(os.path.join(ROOT, '.tools', 'xsoar-sdk', 'demisto_sdk-*.whl')))), None)
    assert wheel and os.path.exists(wheel), (
        'No demisto-sdk wheel: run `node scripts/bootstrap.js --xsoar` (it downloads it into .tools/xsoar-sdk), '
        'or set SMS_ASK_DEMISTO_SDK_WHEEL=/path/to/demisto_sdk-*.whl')
    out = tmp_path_factory.mktemp('schemas')
    with zipfile.ZipFile(wheel) as whl:
        for name in whl.namelist():
            if name.startswith(SCHEMAS) and name.endswith('.yml'):
                (out / os.path.basename(name)).write_bytes(whl.read(name))
    return out


def validate(data, schema):
    Core(source_data=data, schema_files=[str(schema)]).validate(raise_exception=True)


@pytest.mark.parametrize('item,schema', ITEMS)
def test_the_yaml_matches_demisto_sdks_schema(schema_dir, item, schema):
    with open(os.path.join(PACK, item), encoding='utf-8') as f:
        validate(YAML(typ='safe', pure=True).load(f), schema_dir / schema)


def load_integration():
    with open(os.path.join(PACK, ITEMS[0][0]), encoding='utf-8') as f:
        return YAML(typ='safe', pure=True).load(f)


def test_a_wrong_type_or_a_missing_field_fails_the_check(schema_dir):
    wrong_type = load_integration()
    wrong_type['configuration'][0]['type'] = 'text'
    with pytest.raises(SchemaError):
        validate(wrong_type, schema_dir / 'integration.yml')
    missing = load_integration()
    del missing['script']['commands'][0]['description']
    with pytest.raises(SchemaError):
        validate(missing, schema_dir / 'integration.yml')


def test_the_integration_keeps_the_old_commands_arguments_and_context_paths():
    commands = {c['name']: c for c in load_integration()['script']['commands']}
    args = {name: {a['name'] for a in c.get('arguments', [])} for name, c in commands.items()}
    paths = {name: {o['contextPath'] for o in c.get('outputs', [])} for name, c in commands.items()}
    assert args['send-notification'] >= {'to', 'message', 'entitlement', 'options', 'timeout', 'defaultOption', 'policy'}
    assert paths['send-notification'] >= {f'AWS.SNS.SMS.{k}' for k in ('MessageId', 'PhoneNumber', 'Entitlement', 'ReplyCode')}
    assert args['aws-sns-sms-list-entitlements'] >= {'phone_number', 'show_answered'}
    assert paths['aws-sns-sms-list-entitlements'] >= {f'AWS.SNS.SMS.Entitlement.{k}' for k in (
        'EntitlementID', 'PhoneNumber', 'ReplyCode', 'Message', 'Created', 'AgeHours', 'Answered', 'AnsweredAt')}
    assert args['aws-sns-sms-inject-reply'] >= {'phone_number', 'reply_code'}
    assert paths['aws-sns-sms-inject-reply'] >= {f'AWS.SNS.SMS.TestReply.{k}' for k in (
        'Success', 'PhoneNumber', 'ReplyCode', 'ChosenOption', 'EntitlementGUID', 'IncidentID', 'TaskID', 'Error')}


def test_the_old_instance_parameters_are_still_there_hidden_and_say_where_they_went():
    params = {p['name']: p for p in load_integration()['configuration']}
    old = ['defaultRegion', 'roleArn', 'roleSessionName', 'sessionDuration', 'credentials', 'sqsQueueUrl', 'retries',
           'sts_regional_endpoint', 'pollInterval', 'replyCodeMode', 'successFeedbackEnabled', 'successMessage',
           'failureFeedbackEnabled', 'failureMessage']
    for name in old:
        assert params[name]['hidden'] is True and params[name].get('required') is False, name
        assert 'worker' in params[name]['additionalinfo'] or 'no longer' in params[name]['display'], name
    assert params['apiKey']['type'] == 9 and params['url']['required'] is True
    assert params['timeout']['type'] == 0 and params['entitlementTTL']['defaultvalue'] == '24'


def test_the_script_keeps_the_old_arguments():
    with open(os.path.join(PACK, ITEMS[1][0]), encoding='utf-8') as f:
        script = YAML(typ='safe', pure=True).load(f)
    args = {a['name']: a for a in script['args']}
    assert set(args) >= {'phone', 'message', 'option1', 'option2', 'option3', 'option4', 'task', 'replyEntriesTag', 'persistent',
                         'defaultOption', 'timeout', 'policy'}
    assert (args['option1']['defaultValue'], args['option2']['defaultValue']) == ('yes', 'no')
