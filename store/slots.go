package store

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Slot returns the Redis Cluster hash slot of key, as CLUSTER KEYSLOT computes it: CRC16
// (XMODEM) of the key's hash tag, or of the whole key without one, modulo 16384.
func Slot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

// SlotCheck is a debug hook (REDIS_CHECK_SLOTS) that fails every script and MULTI whose
// keys span more than one hash slot, with the CROSSSLOT error Redis Cluster would give. It
// makes a single server or Sentinel catch what only a cluster would otherwise reject.
type SlotCheck struct{}

var _ redis.Hook = SlotCheck{}

// DialHook passes dials through.
func (SlotCheck) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessHook checks the keys of EVAL and EVALSHA.
func (SlotCheck) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := checkSlots(scriptKeys(cmd)); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook checks the scripts of a pipeline and every key of a transaction.
func (SlotCheck) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		tx := false
		var txKeys []string
		for _, c := range cmds {
			switch c.Name() {
			case "multi":
				tx = true
				continue
			case "exec":
				continue
			}
			if err := checkSlots(scriptKeys(c)); err != nil {
				return err
			}
			if args := c.Args(); tx && len(args) > 1 {
				txKeys = append(txKeys, fmt.Sprint(args[1]))
			}
		}
		if err := checkSlots(txKeys); err != nil {
			return err
		}
		return next(ctx, cmds)
	}
}

// scriptKeys returns the keys of an EVAL or EVALSHA command, nil for any other.
func scriptKeys(cmd redis.Cmder) []string {
	switch cmd.Name() {
	case "eval", "evalsha", "eval_ro", "evalsha_ro":
	default:
		return nil
	}
	args := cmd.Args()
	if len(args) < 3 {
		return nil
	}
	n, err := strconv.Atoi(fmt.Sprint(args[2]))
	if err != nil || len(args) < 3+n {
		return nil
	}
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprint(args[3+i])
	}
	return keys
}

func checkSlots(keys []string) error {
	for _, k := range keys[min(1, len(keys)):] {
		if Slot(k) != Slot(keys[0]) {
			return fmt.Errorf("CROSSSLOT (REDIS_CHECK_SLOTS): %q is in slot %d, %q in slot %d", keys[0], Slot(keys[0]), k, Slot(k))
		}
	}
	return nil
}
