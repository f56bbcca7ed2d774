package redis

import (
	"os"
	"testing"

	"github.com/sockio/sockio/adapter/internal/testkit"
)

func TestMain(m *testing.M) {
	testkit.QuietRedis()
	os.Exit(m.Run())
}
