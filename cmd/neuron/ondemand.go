// This file holds the configuration of models on demand: keep_alive, read
// as the request field of the same name is (a duration or a number of
// seconds; negative: for ever). The auto_load switch and the [[models]]
// catalog are plain keys of Config.

package main

import (
	"encoding/json"
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
