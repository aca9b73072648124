package devserver

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
)

// host is the only address the server listens on.
const host = "127.0.0.1"

// configTemplate is close to the smallest config 18.16 accepts: without
// users_config (with a "default" profile) or mark_cache_size it refuses to
// start. Caches are kept small for a laptop. deploy/local/clickhouse.sh
// writes the same settings.
var configTemplate = template.Must(template.New("config.xml").Funcs(template.FuncMap{"xml": xmlEscape}).Parse(
	`<?xml version="1.0"?>
<!-- Written by cairn dev (store/devserver); edits are overwritten. -->
<yandex>
    <logger>
        <level>information</level>
        <log>{{xml .Dir}}/log/clickhouse-server.log</log>
        <errorlog>{{xml .Dir}}/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>` + host + `</listen_host>
    <tcp_port>{{.TCPPort}}</tcp_port>
    <http_port>{{.HTTPPort}}</http_port>
    <path>{{xml .Dir}}/data/</path>
    <tmp_path>{{xml .Dir}}/data/tmp/</tmp_path>
    <user_files_path>{{xml .Dir}}/data/user_files/</user_files_path>
    <format_schema_path>{{xml .Dir}}/data/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>50</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mlock_executable>false</mlock_executable>
</yandex>
`))

// usersXML lets the user "default" in from loopback without a password.
const usersXML = `<?xml version="1.0"?>
<!-- Written by cairn dev (store/devserver); edits are overwritten. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default></default>
    </quotas>
</yandex>
`

// writeConfig writes config.xml and users.xml into dir and creates the
// data and log directories.
func writeConfig(dir string, tcpPort, httpPort int) error {
	for _, d := range []string{"data", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("create state directory: %w", err)
		}
	}
	var b bytes.Buffer
	err := configTemplate.Execute(&b, struct {
		Dir               string
		TCPPort, HTTPPort int
	}{dir, tcpPort, httpPort})
	if err != nil {
		return fmt.Errorf("render config.xml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write config.xml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o644); err != nil {
		return fmt.Errorf("write users.xml: %w", err)
	}
	return nil
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
