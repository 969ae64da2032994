"""SMS questions through sms-ask: a drop-in replacement for "AWS SNS SMS Communication".

sms-ask (a Temporal worker with an HTTP API) sends the SMS, reads the replies, keeps the reply codes
and applies each ask's timeout and default answer. This integration starts asks, and its
long-running loop completes each ended ask's playbook task exactly once: from the ended-asks feed
(mode poll) or from signed webhooks (mode webhook).
"""
import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401,F403

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import requests

BRAND = 'SmsAsk'
CONTEXT_PREFIX = 'AWS.SNS.SMS'
# `GUID@<investigation>|<task>`: what an ask script's addEntitlement makes; only these close a task.
ENTITLEMENT_RE = re.compile(r'^([\w-]+)@([^|@\s]+)\|(\S+)$')
# The old SMSAskUser put the entitlement in the text: "<question> - Reply A or B: GUID@inv|task".
OLD_ASK_TEXT_RE = re.compile(r'^(?P<question>.*) - Reply (?P<options>.+): (?P<entitlement>[\w-]+@[^|@\s]+(?:\|\S+)?)$', re.S)
SIGNATURE_TOLERANCE_SECONDS = 300
FEED_PAGE = 100
DEFAULT_FEED_WAIT = 20
# The integration context keeps at most this many delivery and ask ids.
REMEMBERED_IDS = 2000
TASK_ATTEMPTS = 3
LISTENER_HELLO = 'sms-ask listener'

# Set to stop the long-running loop (a test or the runner does; XSOAR stops the container instead).
STOP = threading.Event()


class SmsAskError(Exception):
    """An sms-ask request that failed; `status` is the HTTP status (0: no answer)."""

    def __init__(self, message, status=0, code=''):
        super().__init__(message)
        self.status = status
        self.code = code


class Client:
    """The few sms-ask HTTP API calls the pack makes (docs/http-api.md)."""

    def __init__(self, base_url, api_key, verify=True, timeout=30, proxy=False):
        self.base_url = base_url.rstrip('/')
        self.api_key = api_key
        self.verify = verify
        self.timeout = timeout
        self.session = requests.Session()
        # XSOAR sets proxy variables for every integration; follow them only when the instance asks.
        self.session.trust_env = proxy

    def request(self, method, path, body=None, params=None, read_timeout=None):
        url = self.base_url + path
        try:
            res = self.session.request(
                method, url, json=body, params=params, verify=self.verify,
                headers={'Authorization': f'Bearer {self.api_key}', 'Accept': 'application/json'},
                timeout=(10, read_timeout or self.timeout),
            )
        except requests.exceptions.RequestException as err:
            raise SmsAskError(f'Cannot reach sms-ask at {self.base_url}: {err}') from err
        try:
            data = res.json() if res.content else {}
        except ValueError:
            data = {}
        if res.status_code >= 400:
            code = data.get('error', '') if isinstance(data, dict) else ''
            message = data.get('message', '') if isinstance(data, dict) else ''
            raise SmsAskError(f'sms-ask answered {res.status_code} to {method} {path}: {message or res.text[:300]}', res.status_code, code)
        return data

    def caller(self):
        return self.request('GET', '/v1/caller')

    def health(self):
        return self.request('GET', '/v1/health')

    def start_ask(self, body):
        return self.request('POST', '/v1/asks', body)

    def send_sms(self, to, message):
        return self.request('POST', '/v1/sms', {'to': to, 'message': message})

    def pending(self, phone=None, codes=False):
        params = {}
        if phone:
            params['to'] = phone
        if codes:
            params['codes'] = 'true'
        return self.request('GET', '/v1/asks/pending', params=params)

    def ended(self, since, limit=200):
        return self.request('GET', '/v1/asks/ended', params={'since': since, 'limit': limit})

    def inject_reply(self, phone, text):
        return self.request('POST', '/v1/replies', {'from': phone, 'text': text})

    def feed(self, after, wait=0, limit=FEED_PAGE):
        return self.request('GET', '/v1/asks/feed', params={'after': after, 'limit': limit, 'wait': wait}, read_timeout=wait + self.timeout)


# ---- settings ------------------------------------------------------------------------------------

def api_key_from(params):
    creds = params.get('apiKey') or {}
    if isinstance(creds, dict):
        return (creds.get('password') or creds.get('identifier') or '').strip()
    return str(creds).strip()


def webhook_secret_from(params):
    secret = params.get('webhookSecret') or ''
    if isinstance(secret, dict):
        secret = secret.get('password') or ''
    return secret.strip()


def client_from(params):
    url = (params.get('url') or '').strip()
    if not url:
        raise DemistoException('Set the sms-ask URL (the address `sms-ask serve` listens on, e.g. https://sms-ask.example.com).')
    key = api_key_from(params)
    if not key:
        raise DemistoException('Set the sms-ask API key (the password of the "API key" parameter): a key from SMS_ASK_HTTP_API_KEYS.')
    timeout = arg_to_number(params.get('timeout')) or 30
    return Client(url, key, verify=not argToBoolean(params.get('insecure') or False), timeout=timeout,
                  proxy=argToBoolean(params.get('proxy') or False))


def as_duration(value):
    """sms-ask durations ("15m", "24h", "2d"); a bare number is hours, as the old entitlementTTL was."""
    text = str(value).strip()
    if not text:
        return None
    if re.fullmatch(r'\d+(\.\d+)?', text):
        return f'{text}h'
    return text


def parse_entitlement(entitlement):
    """(guid, investigation id, task id) for `GUID@inv|task`, else None."""
    match = ENTITLEMENT_RE.match((entitlement or '').strip())
    return match.groups() if match else None


def _remembered(ctx, key):
    raw = ctx.get(key) or '[]'
    try:
        return json.loads(raw) if isinstance(raw, str) else list(raw)
    except ValueError:
        return []


def _remember(ctx, key, value):
    items = [v for v in _remembered(ctx, key) if v != value]
    items.append(value)
    ctx[key] = json.dumps(items[-REMEMBERED_IDS:])


# ---- commands ------------------------------------------------------------------------------------

def test_module(client, params):
    try:
        caller = client.caller()
    except SmsAskError as err:
        if err.status == 401:
            return 'The API key was refused (401). Use a key from the server\'s SMS_ASK_HTTP_API_KEYS (the part after name:scope:).'
        if err.status == 0:
            return f'{err} Check the URL, and that `sms-ask serve` runs and is reachable from this XSOAR (or engine).'
        return f'{err} Is the URL the sms-ask HTTP API (it answers /v1/caller)?'
    if caller.get('scope') not in ('operate', 'codes'):
        return (f'The API key "{caller.get("name")}" has scope {caller.get("scope")}; this integration starts asks and sends SMS, '
                'so it needs an operate key (name:operate:key in SMS_ASK_HTTP_API_KEYS).')
    try:
        health = client.health()
    except SmsAskError as err:
        if err.status == 404:
            return 'This sms-ask server has no /v1/health: upgrade sms-ask to a release with the XSOAR feed (GET /v1/asks/feed).'
        return f'Checking the worker failed: {err}'
    if not health.get('workerPolling'):
        return (f'No sms-ask worker polls the task queue "{health.get("taskQueue", "?")}": asks would never be sent. '
                'Start `sms-ask worker` (or `sms-ask serve --worker`) against the same Temporal namespace and task queue.')
    if params.get('mode') == 'webhook':
        if not webhook_secret_from(params):
            return 'Mode webhook needs the webhook secret: the value of the worker\'s SMS_ASK_WEBHOOK_SECRETS entry named in "Callback secret name".'
        if not (params.get('callbackUrl') or '').strip():
            return 'Mode webhook needs the callback URL: the address sms-ask POSTs to (e.g. https://xsoar.example.com/instance/execute/<instance name>).'
        port = arg_to_number(params.get('longRunningPort'))
        if not port:
            return 'Mode webhook needs a listen port (the "Listen port" parameter).'
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(('', port))
        except OSError as err:
            # Where the test shares the network with the running instance, the port is taken by this listener itself.
            if not _our_listener_on(port):
                return f'Port {port} cannot be used ({err.strerror}): choose a free port, or stop what listens there.'
    return 'ok'


def _our_listener_on(port):
    try:
        res = requests.get(f'http://127.0.0.1:{port}/', timeout=3)
        return res.ok and res.json().get('result') == LISTENER_HELLO
    except (requests.exceptions.RequestException, ValueError, AttributeError):
        return False


def ask_options(args):
    options = argToList(args.get('options'))
    return [str(o).strip() for o in options if str(o).strip()]


def ask_body(args, params, to, question, entitlement, options):
    body = {'to': to, 'question': question, 'entitlement': entitlement, 'feed': True}
    if options:
        body['options'] = options
    timeout = as_duration(args.get('timeout') or params.get('entitlementTTL') or '')
    if timeout:
        body['timeout'] = timeout
    if args.get('defaultOption'):
        body['defaultAnswer'] = str(args['defaultOption']).strip()
    policy = (args.get('policy') or '').strip()
    if policy.startswith('{'):
        try:
            body['policy'] = json.loads(policy)
        except ValueError as err:
            raise DemistoException(f'policy is not a JSON object: {err}')
    elif policy:
        body['preset'] = policy
    parsed = parse_entitlement(entitlement)
    context = {'source': 'xsoar'}
    if parsed:
        context.update({'incident': parsed[1], 'task': parsed[2]})
    else:
        investigation = entitlement.split('@', 1)[1] if '@' in entitlement else ''
        if investigation:
            context['incident'] = investigation
    body['context'] = context
    if params.get('mode') == 'webhook' and (params.get('callbackUrl') or '').strip():
        callback = {'url': params['callbackUrl'].strip(), 'events': ['ended']}
        if (params.get('callbackSecretName') or '').strip():
            callback['secretName'] = params['callbackSecretName'].strip()
        if (params.get('callbackAuthorization') or '').strip():
            callback['authorization'] = params['callbackAuthorization'].strip()
        body['callback'] = callback
    return body


def send_notification(client, args, params):
    phones = argToList(args.get('to'))
    if not phones:
        raise DemistoException('Give `to`: one phone number, or several separated by commas.')
    message = args.get('message') or ''
    entitlement = (args.get('entitlement') or '').strip()
    options = ask_options(args)
    if not entitlement:
        old = OLD_ASK_TEXT_RE.match(message.strip())
        if old:
            message, entitlement = old.group('question'), old.group('entitlement')
            options = options or [o.strip() for o in re.split(r', | or ', old.group('options')) if o.strip()]
    if not message.strip():
        raise DemistoException('Give `message`: the text to send.')
    if entitlement:
        res = client.start_ask(ask_body(args, params, phones, message, entitlement, options))
        outputs = [{'MessageId': res.get('askId'), 'PhoneNumber': phone, 'Entitlement': entitlement, 'ReplyCode': None,
                    'AskId': res.get('askId'), 'Created': res.get('created')} for phone in phones]
        verb = 'Asked' if res.get('created', True) else 'Already asked (nothing sent again)'
        readable = tableToMarkdown(f'{verb}: {message}', outputs, headers=['PhoneNumber', 'AskId', 'Entitlement', 'Created'])
    else:
        outputs = []
        for phone in phones:
            res = client.send_sms(phone, message)
            outputs.append({'MessageId': res.get('messageId'), 'PhoneNumber': res.get('to', phone), 'Entitlement': None, 'ReplyCode': None})
        readable = tableToMarkdown('SMS sent', outputs, headers=['PhoneNumber', 'MessageId'])
    return CommandResults(outputs_prefix=CONTEXT_PREFIX, outputs_key_field='MessageId', outputs=outputs, readable_output=readable, raw_response=outputs)


def _iso(value):
    try:
        return datetime.fromisoformat(str(value).replace('Z', '+00:00'))
    except ValueError:
        return None


def _age_hours(started):
    at = _iso(started)
    return round((datetime.now(timezone.utc) - at).total_seconds() / 3600, 2) if at else None


def list_entitlements(client, args, params):
    phone = (args.get('phone_number') or '').strip()
    show_codes = argToBoolean(args.get('show_codes') or False)
    rows = []
    for ask in client.pending(phone or None, codes=show_codes).get('asks', []):
        codes = ask.get('codes') or {}
        recipients = ask.get('recipients', [])
        # The server matched `to` in E.164; a phone written otherwise keeps every recipient.
        if phone and phone in recipients:
            recipients = [phone]
        for recipient in recipients:
            mine = codes.get(recipient) or []
            rows.append({
                'EntitlementID': ask.get('entitlement'), 'PhoneNumber': recipient,
                'ReplyCode': ', '.join(f'{c.get("option")}={c.get("code")}' for c in mine) or None,
                'Message': ask.get('question'), 'Created': ask.get('startedAt'), 'AgeHours': _age_hours(ask.get('startedAt')),
                'Answered': False, 'AnsweredAt': None, 'AskId': ask.get('askId'), 'Deadline': ask.get('deadline'),
            })
    if argToBoolean(args.get('show_answered') or False):
        since = as_duration(params.get('entitlementTTL') or '') or '24h'
        for ask in client.ended(since).get('asks', []):
            answer = ask.get('answer') or {}
            # The ended listing has no recipients: with a phone, only what that phone answered.
            if phone and answer.get('by') != phone:
                continue
            rows.append({
                'EntitlementID': ask.get('entitlement'), 'PhoneNumber': answer.get('by') if answer.get('via') == 'sms' else None,
                'ReplyCode': None, 'Message': ask.get('question'), 'Created': ask.get('startedAt'),
                'AgeHours': _age_hours(ask.get('startedAt')), 'Answered': bool(answer), 'AnsweredAt': answer.get('at'),
                'AskId': ask.get('askId'), 'Status': ask.get('status'), 'ChosenOption': answer.get('option'),
            })
    readable = tableToMarkdown('SMS asks' + (f' for {phone}' if phone else ''), rows,
                               headers=['EntitlementID', 'PhoneNumber', 'Message', 'Created', 'AgeHours', 'Answered', 'AnsweredAt'])
    return CommandResults(outputs_prefix=f'{CONTEXT_PREFIX}.Entitlement', outputs_key_field='EntitlementID', outputs=rows,
                          readable_output=readable, raw_response=rows)


def inject_reply(client, args, params):
    phone = (args.get('phone_number') or '').strip()
    code = str(args.get('reply_code') or '').strip()
    if not phone or not code:
        raise DemistoException('Give phone_number and reply_code.')
    try:
        res = client.inject_reply(phone, code)
    except SmsAskError as err:
        if err.code == 'injected_replies_disabled':
            raise DemistoException(f'{err} Injected replies are off on this sms-ask server: set SMS_ASK_HTTP_ALLOW_INJECTED_REPLIES=true there to test with this command.')
        raise
    parsed = parse_entitlement(res.get('entitlement') or '') or (None, None, None)
    success = res.get('outcome') == 'answered'
    out = {'Success': success, 'PhoneNumber': phone, 'ReplyCode': code, 'ChosenOption': res.get('option'),
           'EntitlementGUID': parsed[0], 'IncidentID': parsed[1], 'TaskID': parsed[2],
           'Error': None if success else (res.get('message') or res.get('outcome')), 'AskId': res.get('askId')}
    readable = tableToMarkdown('Injected reply', [out], headers=['Success', 'PhoneNumber', 'ReplyCode', 'ChosenOption', 'IncidentID', 'TaskID', 'Error'])
    return CommandResults(outputs_prefix=f'{CONTEXT_PREFIX}.TestReply', outputs=out, readable_output=readable, raw_response=res)


# ---- closing the loop ----------------------------------------------------------------------------

NO_ANSWER = {
    'timed_out': 'timed out with no answer and no default answer',
    'cancelled': 'was cancelled before anyone answered',
    'unreachable': 'reached no one (every send failed or every recipient opted out)',
    'undecided': 'ended undecided (the answers could not agree and there is no default answer)',
}


def complete_ended_ask(ask):
    """Completes the task of one ended ask, or writes why not. Returns what it did; raises if XSOAR refused."""
    ask_id = ask.get('askId')
    parsed = parse_entitlement(ask.get('entitlement'))
    if not parsed:
        demisto.info(f'sms-ask: skipping {ask_id}: entitlement {ask.get("entitlement")!r} is not GUID@investigation|task')
        return 'skipped'
    guid, investigation, task = parsed
    answer = ask.get('answer')
    if answer and answer.get('option') is not None:
        via = answer.get('via')
        who = answer.get('by') or via or 'sms-ask'
        for attempt in range(1, TASK_ATTEMPTS + 1):
            try:
                demisto.handleEntitlementForUser(investigation, guid, who, answer['option'], task)
                break
            except Exception as err:  # XSOAR's call raises its own types
                if attempt == TASK_ATTEMPTS:
                    raise
                demisto.error(f'sms-ask: completing task {task} of incident {investigation} failed ({err}); retrying')
                time.sleep(attempt)
        if via == 'default':
            _war_room(investigation, f'sms-ask: nobody answered "{ask.get("question")}" in time; task {task} was completed '
                                     f'with the default answer **{answer["option"]}**.')
        return 'completed'
    reason = NO_ANSWER.get(ask.get('status'), f'ended ({ask.get("status")}) with no answer')
    _war_room(investigation, f'sms-ask: the ask "{ask.get("question")}" {reason}. Task {task} was **not** completed: '
                             'complete it by hand, or ask again.')
    return 'not_completed'


def _war_room(investigation, text):
    # A long-running loop has no command entry to return into: addEntry writes to the incident's war room.
    try:
        demisto.addEntry(id=investigation, entry=text, username='sms-ask', footer='\n**From sms-ask**')
    except Exception as err:
        demisto.error(f'sms-ask: could not write to the war room of incident {investigation}: {err}; the note was: {text}')


def handle_once(ask, ctx):
    """Complete an ask unless this instance already did (a webhook and the feed, or a repeat); the caller saves ctx."""
    ask_id = ask.get('askId') or ask.get('entitlement')
    if ask_id in _remembered(ctx, 'doneAsks'):
        demisto.debug(f'sms-ask: {ask_id} was already handled')
        return 'duplicate'
    outcome = complete_ended_ask(ask)
    _remember(ctx, 'doneAsks', ask_id)
    return outcome


def poll_feed_once(client, ctx, wait):
    """Reads one page of the feed, completes its entries, and saves the cursor after each. Returns entries handled."""
    cursor = str(ctx.get('feedCursor') or '0')
    page = client.feed(cursor, wait=wait)
    if page.get('gap'):
        message = (f'sms-ask: the feed dropped entries after {cursor} before this instance read them (it was stopped longer than '
                   'the feed keeps them): some playbook tasks may wait forever. List them with aws-sns-sms-list-entitlements '
                   'show_answered=true and complete them by hand.')
        demisto.error(message)
        _module_health(message, True)
    handled = 0
    for entry in page.get('entries', []):
        handle_once(entry, ctx)
        ctx['feedCursor'] = str(entry.get('seq'))
        demisto.setIntegrationContext(ctx)
        handled += 1
    nxt = str(page.get('next') or cursor)
    if not handled and nxt != cursor:
        ctx['feedCursor'] = nxt
        demisto.setIntegrationContext(ctx)
    return handled


def _module_health(message, is_error):
    try:
        demisto.updateModuleHealth(message, is_error=is_error)
    except Exception:
        pass


def run_poll_loop(client, params):
    wait = arg_to_number(params.get('feedWait'))
    wait = DEFAULT_FEED_WAIT if wait is None else max(0, min(wait, 20))
    backoff = 1
    healthy = None
    while not STOP.is_set():
        ctx = demisto.getIntegrationContext() or {}
        try:
            poll_feed_once(client, ctx, wait)
            backoff = 1
            if healthy is not True:
                _module_health('', False)
                healthy = True
        except Exception as err:
            demisto.error(f'sms-ask: reading the feed failed: {err}; retrying in {backoff} s')
            _module_health(f'sms-ask: reading the feed failed: {err}', True)
            healthy = False
            STOP.wait(backoff)
            backoff = min(backoff * 2, 60)
            continue
        if wait == 0:
            STOP.wait(1)


def verify_signature(secret, header, body, now=None, tolerance=SIGNATURE_TOLERANCE_SECONDS):
    """The check docs/http-api.md gives: HMAC-SHA256 over `<t>.<raw body>`, any v1 may match, t within 5 minutes."""
    pairs = [item.split('=', 1) for item in (header or '').split(',') if '=' in item]
    timestamp = next((v.strip() for k, v in pairs if k.strip() == 't'), '')
    if not timestamp.isdigit() or abs((now or time.time()) - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b'.' + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v.strip()) for k, v in pairs if k.strip() == 'v1')


class WebhookHandler(BaseHTTPRequestHandler):
    secret = ''
    lock = threading.Lock()
    server_version = 'SmsAskXsoar/1'

    def log_message(self, fmt, *args):
        demisto.debug('sms-ask listener: ' + fmt % args)

    def _answer(self, status, text):
        data = json.dumps({'result': text}).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer(200, LISTENER_HELLO)

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        if not verify_signature(self.secret, self.headers.get('Sms-Ask-Signature'), body):
            demisto.error('sms-ask listener: refused a delivery with a missing, wrong or stale Sms-Ask-Signature')
            return self._answer(401, 'bad signature')
        try:
            event = json.loads(body)
            ask = event['ask']
        except (ValueError, KeyError, TypeError):
            return self._answer(400, 'not an sms-ask webhook body')
        delivery = self.headers.get('Sms-Ask-Delivery') or event.get('id') or ''
        with self.lock:
            ctx = demisto.getIntegrationContext() or {}
            if delivery and delivery in _remembered(ctx, 'deliveries'):
                return self._answer(200, 'duplicate delivery')
            if event.get('type', 'ask.ended') == 'ask.ended':
                try:
                    outcome = handle_once(ask, ctx)
                except Exception as err:
                    demisto.error(f'sms-ask listener: completing {ask.get("askId")} failed: {err}')
                    # Not 2xx: the worker retries the delivery.
                    return self._answer(500, 'completing the task failed')
            else:
                outcome = 'ignored'
            if delivery:
                _remember(ctx, 'deliveries', delivery)
            demisto.setIntegrationContext(ctx)
        return self._answer(200, outcome)


def make_listener(params):
    port = arg_to_number(params.get('longRunningPort'))
    if not port:
        raise DemistoException('Mode webhook needs a listen port (the "Listen port" parameter).')
    secret = webhook_secret_from(params)
    if not secret:
        raise DemistoException('Mode webhook needs the webhook secret.')
    handler = type('BoundWebhookHandler', (WebhookHandler,), {'secret': secret, 'lock': threading.Lock()})
    server = ThreadingHTTPServer(('', port), handler)
    server.daemon_threads = True
    return server


def run_webhook_listener(params):
    server = make_listener(params)
    demisto.info(f'sms-ask: listening for webhooks on port {server.server_address[1]}')
    watcher = threading.Thread(target=lambda: (STOP.wait(), server.shutdown()), daemon=True)
    watcher.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def long_running_execution(params):
    if params.get('mode') == 'webhook':
        run_webhook_listener(params)
    else:
        run_poll_loop(client_from(params), params)


COMMANDS = {
    'send-notification': send_notification,
    'aws-sns-sms-list-entitlements': list_entitlements,
    'aws-sns-sms-inject-reply': inject_reply,
}


def main():
    params = demisto.params()
    command = demisto.command()
    demisto.debug(f'sms-ask: command {command}')
    try:
        if command == 'long-running-execution':
            try:
                long_running_execution(params)
            except Exception as err:
                _module_health(f'sms-ask: the long-running loop stopped: {err}', True)
                raise
            return
        client = client_from(params)
        if command == 'test-module':
            return_results(test_module(client, params))
        elif command in COMMANDS:
            return_results(COMMANDS[command](client, demisto.args(), params))
        else:
            raise NotImplementedError(f'Command {command} is not implemented by {BRAND}.')
    except Exception as err:
        return_error(f'Failed to execute {command}: {err}', error=err)


if __name__ in ('__main__', '__builtin__', 'builtins'):
    main()
