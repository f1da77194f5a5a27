// This file holds the configuration of models on demand: keep_alive, read
// as the request field of the same name is (a duration or a number of
// seconds; negative: for ever), and evict, which follows auto_load unless
// set (a workstation evicts idle models to make room, a server with a fixed
// set keeps its 409/422 answers). The auto_load switch and the [[models]]
// catalog are plain keys of Config.

package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/helexa/helexa/api"
)

// keepAlive parses keep_alive; empty keeps models for ever (-1).
func (c *Config) keepAlive() (time.Duration, error) {
	s := strings.TrimSpace(c.KeepAlive)
	if s == "" {
		return -1, nil
	}
	var k api.KeepAlive
	if err := json.Unmarshal([]byte(strconv.Quote(s)), &k); err != nil {
		return 0, err
	}
	return time.Duration(k), nil
}

// keepAliveOption is keep_alive for the server's options (validated).
func (c *Config) keepAliveOption() *time.Duration {
	d, _ := c.keepAlive()
	return &d
}

// evict reads the evict switch: true or false (TOML booleans arrive as 1
// or 0), or "auto" and empty for auto_load's value.
func (c *Config) evict() (bool, error) {
	s := strings.TrimSpace(c.Evict)
	if s == "" || strings.EqualFold(s, "auto") {
		return c.AutoLoad, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("want true, false or auto, got %q", c.Evict)
	}
	return b, nil
}

// evictOption is evict for the server's options (validated).
func (c *Config) evictOption() bool {
	b, _ := c.evict()
	return b
}
