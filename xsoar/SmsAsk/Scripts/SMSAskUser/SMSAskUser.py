"""Asks one or more phones a question by SMS; the answer completes the playbook task (through sms-ask)."""
import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401,F403

import json

BRAND = 'SmsAsk'


def build_entitlement(guid, investigation_id, task):
    entitlement = f'{guid}@{investigation_id}'
    return f'{entitlement}|{task}' if task else entitlement


def main():
    args = demisto.args()
    phones = argToList(args.get('phone'))
    message = args.get('message') or ''
    if not phones or not message:
        return_error('Give phone (one number, or several separated by commas) and message.')
    options = [str(args.get('option1') or 'yes').strip(), str(args.get('option2') or 'no').strip()]
    options += [str(args[name]).strip() for name in ('option3', 'option4') if args.get(name)]
    default = (args.get('defaultOption') or '').strip()
    if default and default not in options:
        return_error(f'defaultOption "{default}" is not one of the options: {", ".join(options)}.')

    res = demisto.executeCommand('addEntitlement', {
        'persistent': args.get('persistent') or 'false',
        'replyEntriesTag': args.get('replyEntriesTag') or '',
    })
    if isError(res[0]):
        return_error(f'Could not create the entitlement: {get_error(res)}')
    guid = res[0]['Contents']
    entitlement = build_entitlement(guid, demisto.investigation()['id'], (args.get('task') or '').strip())

    notification = {'to': ','.join(phones), 'message': message, 'entitlement': entitlement,
                    'options': json.dumps(options), 'using-brand': BRAND}
    for name in ('timeout', 'defaultOption', 'policy'):
        if args.get(name):
            notification[name] = args[name]
    # using-brand: other integrations (Slack, Mattermost …) also implement send-notification.
    demisto.results(demisto.executeCommand('send-notification', notification))


if __name__ in ('__main__', '__builtin__', 'builtins'):
    main()
