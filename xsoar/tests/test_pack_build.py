"""scripts/build-xsoar-pack.py: the zip has the layout XSOAR's "Upload pack" takes, with each code file unified into its YAML."""
import json
import os
import subprocess
import sys
import zipfile

import pytest
from ruamel.yaml import YAML

from conftest import PACK, XSOAR
from test_schemas import schema_dir, validate  # noqa: F401 (a fixture)

ROOT = os.path.dirname(XSOAR)
BUILD = os.path.join(ROOT, 'scripts', 'build-xsoar-pack.py')


@pytest.fixture(scope='module')
def pack_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist') / 'SmsAsk.zip'
    res = subprocess.run([sys.executable, BUILD, '--out', str(out)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert 'SmsAsk.zip: 7 files' in res.stdout
    return zipfile.ZipFile(out)


def yml(pack_zip, name):
    return YAML(typ='safe', pure=True).load(pack_zip.read(name).decode())


def test_the_zip_has_the_pack_layout_at_its_root(pack_zip):
    assert sorted(pack_zip.namelist()) == sorted([
        'pack_metadata.json', 'metadata.json', 'README.md', 'ReleaseNotes/1_0_0.md',
        'Integrations/integration-SmsAsk.yml', 'Scripts/script-SMSAskUser.yml', 'Playbooks/playbook-SMS_Ask_Example.yml'])
    meta = json.loads(pack_zip.read('pack_metadata.json'))
    assert meta['currentVersion'] == '1.0.0' and meta['name']
    listing = json.loads(pack_zip.read('metadata.json'))['contentItems']
    assert [c['name'] for c in listing['integration'][0]['commands']] == [
        'send-notification', 'aws-sns-sms-list-entitlements', 'aws-sns-sms-inject-reply']
    assert listing['automation'][0]['id'] == 'SMSAskUser' and listing['playbook'][0]['id'] == 'SMS Ask - Example'


@pytest.mark.parametrize('name,source,code_of', [
    ('Integrations/integration-SmsAsk.yml', 'Integrations/SmsAsk/SmsAsk.py', lambda d: d['script']['script']),
    ('Scripts/script-SMSAskUser.yml', 'Scripts/SMSAskUser/SMSAskUser.py', lambda d: d['script']),
])
def test_each_unified_yaml_carries_its_code_without_the_stand_in_imports(pack_zip, name, source, code_of):
    code = code_of(yml(pack_zip, name))
    with open(os.path.join(PACK, source), encoding='utf-8') as f:
        original = f.read()
    assert 'import demistomock' not in code and 'from CommonServerPython import' not in code
    assert [line for line in code.splitlines() if line.strip()] == [
        line for line in original.splitlines() if line.strip() and 'import demistomock' not in line and 'from CommonServerPython' not in line]
    compile(code, name, 'exec')


def test_the_unified_yaml_still_matches_the_schemas_and_has_the_description(pack_zip, schema_dir):  # noqa: F811
    integration = yml(pack_zip, 'Integrations/integration-SmsAsk.yml')
    validate(integration, schema_dir / 'integration.yml')
    validate(yml(pack_zip, 'Scripts/script-SMSAskUser.yml'), schema_dir / 'script.yml')
    assert integration['detaileddescription'].startswith('## SMS Ask (sms-ask)')
    assert integration['script']['longRunning'] is True


def test_the_build_is_reproducible(tmp_path):
    outs = [tmp_path / 'a.zip', tmp_path / 'b.zip']
    for out in outs:
        subprocess.run([sys.executable, BUILD, '--out', str(out)], check=True, capture_output=True, timeout=60)
    assert outs[0].read_bytes() == outs[1].read_bytes()
