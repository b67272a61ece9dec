#!/usr/bin/env python3
"""Run a command through execgate's one-step WebSocket form, like `kubectl exec`.

    EXECGATE_TOKEN=... python3 examples/exec.py [--server 127.0.0.1:8080] [--container ID | --uvm ID] [-i] [-t] -- COMMAND [ARG...]

stdin is forwarded with -i (end-of-file is sent as v5's CLOSE), -t asks for a terminal, and the exit code of
the command becomes this script's. The token (admin for the host, operator for a container) comes from EXECGATE_TOKEN or
--token, and is sent in the Authorization header. Needs websocket-client, the library the Kubernetes Python client uses
(Debian: apt-get install python3-websocket).
"""
import argparse
import json
import os
import sys
import threading
import urllib.parse

import websocket

parser = argparse.ArgumentParser()
parser.add_argument("--server", default="127.0.0.1:8080")
parser.add_argument("--token", default=os.environ.get("EXECGATE_TOKEN"))
parser.add_argument("-i", "--stdin", action="store_true")
parser.add_argument("-t", "--tty", action="store_true")
parser.add_argument("--container", help="run in this container instead of on the service's host")
parser.add_argument("--uvm", help="run in this utility VM instead of on the service's host")
parser.add_argument("command", nargs="+")
args = parser.parse_args()

query = [("command", c) for c in args.command] + [
    ("stdin", str(args.stdin).lower()), ("stdout", "true"),
    ("stderr", str(not args.tty).lower()), ("tty", str(args.tty).lower())]
if args.tty and os.isatty(1):
    size = os.get_terminal_size()
    if size.columns and size.lines:
        query += [("width", size.columns), ("height", size.lines)]
if args.container:
    target = "containers/%s" % urllib.parse.quote(args.container, safe=":")
elif args.uvm:
    target = "uvms/%s" % urllib.parse.quote(args.uvm, safe="")
else:
    target = "host"
url = "ws://%s/api/v1/%s/exec?%s" % (args.server, target, urllib.parse.urlencode(query))
headers = ["Authorization: Bearer " + args.token] if args.token else []
ws = websocket.create_connection(url, subprotocols=["v5.channel.k8s.io"], header=headers)


def pump_stdin():
    while True:
        data = os.read(0, 65536)
        if not data:
            ws.send(bytes([255, 0]), opcode=websocket.ABNF.OPCODE_BINARY)  # stdin is done
            return
        ws.send(b"\x00" + data, opcode=websocket.ABNF.OPCODE_BINARY)


if args.stdin:
    if args.tty and os.isatty(0):
        import atexit
        import termios
        import tty
        saved = termios.tcgetattr(0)
        atexit.register(termios.tcsetattr, 0, termios.TCSADRAIN, saved)
        tty.setraw(0)  # keys go to the remote terminal as typed, Ctrl-C included
    threading.Thread(target=pump_stdin, daemon=True).start()

code = 1
while True:
    try:
        message = ws.recv()
    except websocket.WebSocketConnectionClosedException:
        break
    if not message:
        break
    channel, data = message[0], message[1:]
    if channel == 1:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    elif channel == 2:
        sys.stderr.buffer.write(data)
        sys.stderr.buffer.flush()
    elif channel == 3:
        status = json.loads(data)
        if status.get("status") == "Success":
            code = 0
        else:
            causes = status.get("details", {}).get("causes", [])
            code = next((int(c["message"]) for c in causes if c.get("reason") == "ExitCode"), 1)
ws.close()
sys.exit(code)
