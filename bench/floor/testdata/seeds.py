# Writes the floor-fuzz seed corpus beside this file (format: fuzz.c's top
# comment: pieces split by 0xFF, the first sent as is, the others as masked
# text frames, or as is after a 0xFE). Deterministic.  python3 seeds.py
import os, struct

HERE = os.path.dirname(os.path.abspath(__file__))
UPGRADE = (b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
KEY = bytes([0x37, 0xfa, 0x21, 0x3d])

def raw(payload, opcode, fin=True):
    """A masked frame of any opcode, as a raw piece."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return b"\xfe" + head + KEY + bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))

def conn(*pieces):
    return b"\xff".join([UPGRADE] + [p.encode() if isinstance(p, str) else p for p in pieces])

seeds = {
    "echo": conn("40", '42["echo","x"]', '421["echo",{"a":[1,2,"]"]},"\\u00e9\\""]', '42["echo"]', "3", "6",
                 raw(b"hi", 9), raw(b"", 10), raw(b"\x03\xe8", 8)),
    "broadcast": conn('40{"token":"t"}', '427["broadcast","1:2:pad"]', '428["join","room"]', '42["join","other"]',
                      '429["broadcast_room","room","a",{"b":null}]', '42["broadcast_room","none"]', "41", "40", "1"),
    "namespaces": conn('40/admin,{"x":1}', "40/,", "41/,", '42/admin,["echo"]', "40", '43["x"]', "2probe", "5"),
    "long": conn("40", '42["echo","' + "p" * 300 + '"]', '42["echo","' + "q" * 70000 + '"]'),
    "frames": conn(raw(b"4", 1, fin=False), raw(b"0", 0), raw(b"\x04\x01", 2), raw(b"x", 3)),
    "lengths": UPGRADE + b"\xff\xfe\x81\xfe\x00\x05" + KEY + b"\xff\xfe\x81\xff" + b"\x7f" + b"\x00" * 7 + KEY,
    "gc": b"GET /debug/gc HTTP/1.1\r\nHost: x\r\n\r\n",
    "polling": b"GET /socket.io/?EIO=4&transport=polling&t=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "post": b"POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\nContent-Length: 2\r\n\r\n40",
    "badhead": b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
}
for name in os.listdir(HERE):
    if not name.endswith(".py"):
        os.remove(os.path.join(HERE, name))
for name, data in seeds.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
