#!/usr/bin/env python3
"""Idle keep-alive connection memory probe, used by tests/bench/proxy_bench.sh --idle-conns N.

Opens N client connections to 127.0.0.1:PORT (at most --window in flight at once). Each sends one
small GET, reads the whole response and then stays idle. Prints one line:
  ok=M failed=F alive=A open_s=T rss_before_kib=B rss_after_kib=R kib_per_conn=K
RSS is VmRSS summed over --pids (e.g. nginx master + workers), read before the first connect and
1 s after the last response; `alive` counts connections the proxy still holds open after that
reading. Every loop is bounded in count and by --timeout. Standard library only.
"""
import argparse, errno, selectors, socket, struct, sys, time


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return total


def response_done(buf):
    """True once buf holds a full response head and its Content-Length body."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True  # no body length: the head is enough for a `return 200` upstream


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--pids", required=True, help="space-separated PIDs whose RSS is summed")
    ap.add_argument("--path", default="/api/x")
    ap.add_argument("--window", type=int, default=256, help="connections in flight at once")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds for opening all of them")
    a = ap.parse_args()
    pids = [int(p) for p in a.pids.split()]
    request = f"GET {a.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

    before = rss_kib(pids)
    sel = selectors.DefaultSelector()
    idle, started, failed = [], 0, 0
    t0 = time.monotonic()
    deadline = t0 + a.timeout
    while len(idle) + failed < a.count and time.monotonic() < deadline:
        # Start new connections up to the window.
        while started < a.count and len(sel.get_map()) < a.window:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", a.port))
            if err not in (0, errno.EINPROGRESS):
                s.close(); failed += 1; started += 1
                continue
            sel.register(s, selectors.EVENT_WRITE, {"buf": b""})
            started += 1
        for key, ev in sel.select(timeout=0.5):
            s, st = key.fileobj, key.data
            try:
                if ev & selectors.EVENT_WRITE:  # connected: send the request (small, fits at once)
                    if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) or s.send(request) != len(request):
                        raise OSError("connect/send failed")
                    sel.modify(s, selectors.EVENT_READ, st)
                    continue
                data = s.recv(65536)
                if not data:
                    raise OSError("closed before the response")
                st["buf"] += data
                if response_done(st["buf"]):
                    sel.unregister(s); idle.append(s)
            except OSError:
                sel.unregister(s); s.close(); failed += 1
    open_s = time.monotonic() - t0
    for key in list(sel.get_map().values()):  # still pending at the deadline: count as failed
        sel.unregister(key.fileobj); key.fileobj.close(); failed += 1

    time.sleep(1.0)  # let the proxy settle (freed request buffers, lazily allocated pages)
    after = rss_kib(pids)
    alive = 0
    for s in idle:  # alive = nothing to read yet (EAGAIN), not EOF and not an error
        try:
            alive += 0 if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"" else 1
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    per = (after - before) / len(idle) if idle else 0.0
    print(f"ok={len(idle)} failed={failed} alive={alive} open_s={open_s:.2f} "
          f"rss_before_kib={before} rss_after_kib={after} kib_per_conn={per:.2f}")
    linger = struct.pack("ii", 1, 0)  # close with RST: no TIME_WAIT left behind
    for s in idle:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger); s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
