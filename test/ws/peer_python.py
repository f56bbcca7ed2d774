#!/usr/bin/env python3
"""Python's websockets (Debian's python3-websockets) against `sockio echo`.

Usage: peer_python.py ECHO_URL DEFLATE_ECHO_URL
Prints one line per case and 'N passed, N failed'; exits 1 on any failure.
"""
import asyncio
import sys
import traceback

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.frames import Opcode

PLAIN, DEFLATE = sys.argv[1], sys.argv[2]
TIMEOUT = 30


def connect(url, **kw):
    kw.setdefault("compression", None)
    kw.setdefault("max_size", None)
    return websockets.connect(url, open_timeout=10, close_timeout=5, **kw)


async def echo_lengths():
    async with connect(PLAIN) as ws:
        for n in (0, 1, 125, 126, 127, 65535, 65536, 1 << 20, 16 << 20):
            text = "ü" * (n // 2) + "x" * (n % 2)
            await ws.send(text)
            assert await ws.recv() == text, f"text of {n} bytes"
            data = bytes([n % 251]) * n
            await ws.send(data)
            assert await ws.recv() == data, f"binary of {n} bytes"


async def fragmented():
    async with connect(PLAIN) as ws:
        await ws.send(iter(["frag", "men", "ted κόσμε"]))
        assert await ws.recv() == "fragmented κόσμε"
        await ws.send(iter([b"\x01", b"", b"\x02\x03"]))
        assert await ws.recv() == b"\x01\x02\x03"


async def ping_pong():
    async with connect(PLAIN) as ws:
        waiter = await ws.ping(b"hello?")
        await asyncio.wait_for(waiter, 5)


async def close_code():
    async with connect(PLAIN) as ws:
        await ws.close(4000, "bye")
        assert ws.close_code == 4000, ws.close_code


async def invalid_utf8():
    async with connect(PLAIN) as ws:
        # Below the public API: a text frame with bytes that are not UTF-8.
        await ws.write_frame(True, Opcode.TEXT, b"ok\xf4\x90\x80\x80")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("no close")
        except ConnectionClosed as e:
            assert e.rcvd is not None and e.rcvd.code == 1007, e


async def deflate():
    async with websockets.connect(DEFLATE, open_timeout=10, max_size=None) as ws:
        names = [type(e).__name__ for e in ws.extensions]
        assert names == ["PerMessageDeflate"], names
        big = "".join(f'{{"i":{i},"name":"item"}},' for i in range(5000))
        await ws.send(big)
        assert await ws.recv() == big
        data = bytes(1 << 20)
        await ws.send(data)
        assert await ws.recv() == data


async def concurrent_clients():
    async def one(c):
        async with connect(PLAIN) as ws:
            for i in range(50):
                msg = f"client {c} message {i}"
                await ws.send(msg)
                assert await ws.recv() == msg

    await asyncio.gather(*(one(c) for c in range(20)))


CASES = [echo_lengths, fragmented, ping_pong, close_code, invalid_utf8, deflate, concurrent_clients]


async def main():
    passed = failed = 0
    for case in CASES:
        try:
            await asyncio.wait_for(case(), TIMEOUT)
            passed += 1
            print(f"ok   {case.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {case.__name__}")
            traceback.print_exc()
    print(f"python: {passed} passed, {failed} failed")
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main()) else 0)
