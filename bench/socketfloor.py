"""``python -m bench.socketfloor``: what the kernel alone charges per delivered frame on this machine.

One process writes ~100-byte WebSocket-sized frames round-robin to N loopback TCP sockets with
plain ``socket.send`` (no Python framework, no event loop); a forked reader drains them with
``epoll`` and ``recv``. CPU time per frame on each side is the floor under any server's
per-delivery cost here: every delivery is one such write on the node and one such read in the load
generator.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import time

FRAME = b"\x81\x64" + b"x" * 100


def _read(port: int, connections: int, frames: int, report: int) -> None:
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    poller = select.epoll()
    by_fd = {}
    for sock in sockets:
        sock.setblocking(False)
        poller.register(sock.fileno(), select.EPOLLIN)
        by_fd[sock.fileno()] = sock
    os.write(report, b"connected\n")
    expected = frames * len(FRAME)
    got = 0
    started = time.process_time()
    while got < expected:
        for fd, _ in poller.poll(1):
            try:
                got += len(by_fd[fd].recv(65536))
            except BlockingIOError:
                continue
    os.write(report, json.dumps({"reader_cpu_us_per_frame": (time.process_time() - started) * 1e6 / frames}).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1_000)
    parser.add_argument("--frames", type=int, default=200_000)
    args = parser.parse_args()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    report_read, report_write = os.pipe()
    child = os.fork()
    if child == 0:
        _read(port, args.connections, args.frames, report_write)
        os._exit(0)
    os.close(report_write)  # the reader's copy is the only writer left: its exit ends the report
    accepted = [listener.accept()[0] for _ in range(args.connections)]
    for sock in accepted:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reports = os.fdopen(report_read)
    reports.readline()  # the reader is polling
    started = time.process_time()
    for number in range(args.frames):
        accepted[number % args.connections].send(FRAME)
        if number % 1_000 == 999:
            time.sleep(0.02)  # paced, so the reader keeps up and no buffer fills
    writer = (time.process_time() - started) * 1e6 / args.frames
    os.waitpid(child, 0)
    result = json.loads(reports.read())
    print(
        json.dumps(
            {
                "connections": args.connections,
                "frames": args.frames,
                "writer_cpu_us_per_frame": round(writer, 2),
                "reader_cpu_us_per_frame": round(result["reader_cpu_us_per_frame"], 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
