#!/usr/bin/env python3
"""Builds the zip that XSOAR's "Upload pack" takes from xsoar/SmsAsk, into dist-xsoar/SmsAsk.zip (npm run xsoar:pack).

The layout is demisto-sdk's uploadable pack: pack_metadata.json, metadata.json, README.md and ReleaseNotes/
at the root, and each integration and script unified into one YAML with its code inside (the
`import demistomock` and `from CommonServerPython import *` lines dropped: XSOAR provides both), named
Integrations/integration-<name>.yml, Scripts/script-<name>.yml, Playbooks/playbook-<name>.yml.
Not under dist/: the TypeScript build wipes that folder and npm pack ships it. Standard library only; the source YAML is edited as text, so the `script: '-'` and `detaileddescription: ''`
lines must stay as they are.
"""
import argparse
import json
import os
import re
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACK_DIR = os.path.join(ROOT, 'xsoar', 'SmsAsk')
DEFAULT_OUT = os.path.join(ROOT, 'dist-xsoar', 'SmsAsk.zip')
# A fixed time for every entry: the same sources give the same zip.
STAMP = (2026, 1, 1, 0, 0, 0)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def clean_python(code):
    code = re.sub(r'^import demistomock as demisto[ \t]*(#.*)?$', '', code, flags=re.M)
    return re.sub(r'^from CommonServerPython import \*[ \t]*(#.*)?$', '', code, flags=re.M)


def block(text, indent):
    """A YAML literal block (|-) whose every line is indented, so any code reads back unchanged."""
    pad = ' ' * indent
    lines = text.rstrip('\n').split('\n')
    return f'|{indent}-\n' + '\n'.join(pad + line if line.strip() else '' for line in lines)


def unify(yml_text, code, script_key_indent, description=None):
    key = ' ' * script_key_indent + 'script: '
    line = f"{key}'-'"
    if yml_text.count(line + '\n') != 1:
        raise SystemExit(f"expected one line `{line}` to put the code in")
    yml_text = yml_text.replace(line + '\n', key + block(code, 2) .replace('\n', '\n' + ' ' * script_key_indent) + '\n', 1)
    if description is not None:
        empty = "detaileddescription: ''\n"
        if empty not in yml_text:
            raise SystemExit('expected `detaileddescription: \'\'` to put the description in')
        yml_text = yml_text.replace(empty, 'detaileddescription: ' + block(description, 2) + '\n', 1)
    return yml_text


def integration_items(pack):
    base = os.path.join(pack, 'Integrations')
    for name in sorted(os.listdir(base)):
        folder = os.path.join(base, name)
        description = os.path.join(folder, f'{name}_description.md')
        text = unify(read(os.path.join(folder, f'{name}.yml')), clean_python(read(os.path.join(folder, f'{name}.py'))), 2,
                     read(description) if os.path.exists(description) else None)
        yield f'Integrations/integration-{name}.yml', text


def script_items(pack):
    base = os.path.join(pack, 'Scripts')
    for name in sorted(os.listdir(base)):
        folder = os.path.join(base, name)
        yield f'Scripts/script-{name}.yml', unify(read(os.path.join(folder, f'{name}.yml')), clean_python(read(os.path.join(folder, f'{name}.py'))), 0)


def playbook_items(pack):
    base = os.path.join(pack, 'Playbooks')
    for name in sorted(os.listdir(base)):
        if name.endswith('.yml'):
            yield f'Playbooks/playbook-{re.sub(r"^playbook-", "", name)}', read(os.path.join(base, name))


def first(pattern, text):
    match = re.search(pattern, text, re.M)
    return match.group(1).strip().strip('\'"') if match else ''


def metadata(pack_metadata, items):
    """metadata.json: the pack's metadata and a list of what it holds, as the marketplace shows it."""
    contents = {'integration': [], 'automation': [], 'playbook': []}
    for path, text in items:
        kind = path.split('/')[0]
        if kind == 'Integrations':
            contents['integration'].append({'id': first(r'^  id: (.+)$', text), 'name': first(r'^display: (.+)$', text),
                                            'description': first(r'^description: (.+)$', text),
                                            'commands': [{'name': c} for c in re.findall(r'^  - name: (\S+)$', text, re.M)]})
        elif kind == 'Scripts':
            contents['automation'].append({'id': first(r'^  id: (.+)$', text), 'name': first(r'^name: (.+)$', text),
                                           'description': first(r'^comment: (.+)$', text)})
        elif kind == 'Playbooks':
            contents['playbook'].append({'id': first(r'^id: (.+)$', text), 'name': first(r'^name: (.+)$', text),
                                         'description': first(r'^description: (.+)$', text)})
    return {**pack_metadata, 'id': os.path.basename(PACK_DIR), 'serverMinVersion': '6.5.0', 'contentItems': contents}


def build(pack=PACK_DIR, out=DEFAULT_OUT):
    items = [*integration_items(pack), *script_items(pack), *playbook_items(pack)]
    pack_metadata = json.loads(read(os.path.join(pack, 'pack_metadata.json')))
    files = [('pack_metadata.json', json.dumps(pack_metadata, indent=4) + '\n'),
             ('metadata.json', json.dumps(metadata(pack_metadata, items), indent=4) + '\n'),
             ('README.md', read(os.path.join(pack, 'README.md')))]
    notes = os.path.join(pack, 'ReleaseNotes')
    files += [(f'ReleaseNotes/{n}', read(os.path.join(notes, n))) for n in sorted(os.listdir(notes)) if n.endswith('.md')]
    files += items
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + '.tmp'
    with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
        for name, text in files:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode('utf-8'))
    os.replace(tmp, out)
    return out, [name for name, _ in files]


def main():
    parser = argparse.ArgumentParser(description='Builds dist-xsoar/SmsAsk.zip for XSOAR\'s "Upload pack".')
    parser.add_argument('--out', default=DEFAULT_OUT)
    opts = parser.parse_args()
    out, names = build(out=opts.out)
    print(f'[xsoar] {os.path.relpath(out, ROOT)}: {len(names)} files ({", ".join(names)})')


if __name__ == '__main__':
    sys.exit(main())
