#!/usr/bin/env python3
# Runs a command under a real pseudo-terminal, as a person at a terminal would: waits for each expected
# prompt, then types the answer. Steps come as JSON [[expected, typed], ...] in PTY_STEPS.
# Prints {"output": everything the terminal showed, "code": exit status} as JSON.
import json
import os
import pty
import select
import sys
import time

steps = json.loads(os.environ.get("PTY_STEPS", "[]"))
deadline = time.time() + float(os.environ.get("PTY_TIMEOUT", "90"))
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

output = b""
seen = 0  # output before this offset has been matched already
eof = False


def read_some():
    global output, eof
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        return
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        chunk = b""
    if not chunk:
        eof = True
    output += chunk


for expected, typed in steps:
    want = expected.encode()
    while want not in output[seen:]:
        if eof or time.time() > deadline:
            break
        read_some()
    if want not in output[seen:]:
        break
    seen = output.index(want, seen) + len(want)
    os.write(fd, typed.encode())

while not eof and time.time() < deadline:
    read_some()
if not eof:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
print(json.dumps({"output": output.decode("utf-8", "replace"), "code": code}))
