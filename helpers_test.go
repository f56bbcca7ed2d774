package sockio

import (
	"fmt"
	"strconv"

	"github.com/sockio/sockio/parser"
)

func fmtSscanf(s, format string, args ...any) (int, error) { return fmt.Sscanf(s, format, args...) }

func itoa(i int) string { return strconv.Itoa(i) }

type parserPacket = parser.Packet
