package sockio

import (
	"fmt"
	"strconv"
)

func fmtSscanf(s, format string, args ...any) (int, error) { return fmt.Sscanf(s, format, args...) }

func itoa(i int) string { return strconv.Itoa(i) }
