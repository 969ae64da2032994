"""A stand-in for XSOAR's CommonServerPython: only the helpers the SmsAsk pack uses, from their documented behaviour."""
import json
import sys

import demistomock as demisto


class EntryType:
    NOTE = 1
    DOWNLOAD_AGENT = 2
    FILE = 3
    ERROR = 4
    PINNED = 5
    USER_MANAGEMENT = 6
    IMAGE = 7
    PLAYGROUND_ERROR = 8
    ENTRY_INFO_FILE = 9
    WARNING = 11


class EntryFormat:
    HTML = 'html'
    TABLE = 'table'
    JSON = 'json'
    TEXT = 'text'
    MARKDOWN = 'markdown'


entryTypes = {'note': 1, 'downloadAgent': 2, 'file': 3, 'error': 4, 'pinned': 5, 'userManagement': 6, 'image': 7,
              'playgroundError': 8, 'entryInfoFile': 9, 'warning': 11}
formats = {'html': 'html', 'table': 'table', 'json': 'json', 'text': 'text', 'markdown': 'markdown'}


class DemistoException(Exception):
    def __init__(self, message, exception=None, res=None, *args):
        super().__init__(message, exception, res, *args)
        self.message = message
        self.exception = exception
        self.res = res

    def __str__(self):
        return str(self.message)


def argToList(arg, separator=','):
    if not arg:
        return []
    if isinstance(arg, list):
        return arg
    if isinstance(arg, str):
        if arg.startswith('['):
            return json.loads(arg)
        return [s.strip() for s in arg.split(separator) if s.strip()]
    return [arg]


def argToBoolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.lower() in ('true', 'yes'):
            return True
        if value.lower() in ('false', 'no'):
            return False
    raise ValueError('Argument does not contain a valid boolean-like value')


def arg_to_number(arg, arg_name=None, required=False):
    if arg is None or arg == '':
        if required:
            raise ValueError(f'Missing "{arg_name}"')
        return None
    if isinstance(arg, str):
        if arg.isdigit():
            return int(arg)
        try:
            return int(float(arg))
        except ValueError:
            raise ValueError(f'Invalid number: "{arg_name}"="{arg}"')
    if isinstance(arg, int):
        return arg
    raise ValueError(f'Invalid number: "{arg_name}"')


def isError(entry):
    return isinstance(entry, dict) and entry.get('Type') == EntryType.ERROR


def get_error(execute_command_result):
    entry = execute_command_result[0] if isinstance(execute_command_result, list) else execute_command_result
    return str(entry.get('Contents'))


def tableToMarkdown(name, t, headers=None, removeNull=False, **kwargs):
    rows = t if isinstance(t, list) else [t]
    if headers is None:
        headers = list(rows[0].keys()) if rows else []
    lines = [f'### {name}']
    if not rows:
        lines.append('**No entries.**')
        return '\n'.join(lines) + '\n'
    lines.append('|' + '|'.join(headers) + '|')
    lines.append('|' + '|'.join('---' for _ in headers) + '|')
    for row in rows:
        lines.append('|' + '|'.join('' if row.get(h) is None else str(row.get(h)) for h in headers) + '|')
    return '\n'.join(lines) + '\n'


class CommandResults:
    def __init__(self, outputs_prefix=None, outputs_key_field=None, outputs=None, readable_output=None,
                 raw_response=None, **kwargs):
        self.outputs_prefix = outputs_prefix
        self.outputs_key_field = outputs_key_field
        self.outputs = outputs
        self.readable_output = readable_output
        self.raw_response = raw_response

    def to_context(self):
        context = {}
        if self.outputs is not None and self.outputs_prefix:
            key = self.outputs_prefix
            if self.outputs_key_field:
                field = self.outputs_key_field
                key = f'{self.outputs_prefix}(val.{field} && val.{field} == obj.{field})'
            context[key] = self.outputs
        return {
            'Type': EntryType.NOTE,
            'ContentsFormat': EntryFormat.JSON,
            'Contents': self.raw_response if self.raw_response is not None else self.outputs,
            'HumanReadable': self.readable_output,
            'EntryContext': context,
        }


def return_results(results):
    if isinstance(results, CommandResults):
        demisto.results(results.to_context())
    elif isinstance(results, list):
        for r in results:
            return_results(r)
    else:
        demisto.results(results)


def return_error(message, error='', outputs=None):
    demisto.error(str(message))
    demisto.results({'Type': EntryType.ERROR, 'ContentsFormat': EntryFormat.TEXT, 'Contents': str(message),
                     'EntryContext': outputs})
    sys.exit(0)
