package engineio

import (
	"io"
	"net/http"
	"strings"
)

func bufCopy(dst *strings.Builder, res *http.Response) (int64, error) { return io.Copy(dst, res.Body) }
