package influx

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreateDatabases(t *testing.T) {
	for _, tc := range []struct {
		q       string
		want    int
		wantErr string
	}{
		{q: `CREATE DATABASE "telegraf"`, want: 1}, // Telegraf's influxdb output
		{q: `create database mydb`, want: 1},
		{q: "CREATE\tDATABASE\n\"a\\\"b;c\" ;", want: 1},
		{q: `CREATE DATABASE "a"; CREATE DATABASE b;`, want: 2},
		{q: `CREATE DATABASE _x9`, want: 1},
		{q: ``, wantErr: "found EOF, expected CREATE DATABASE"},
		{q: ` ; `, wantErr: "found EOF"},
		{q: `SELECT * FROM cpu`, wantErr: `statement 1 "SELECT * FROM cpu": only CREATE DATABASE <name> is supported`},
		{q: `CREATE DATABASE a; SHOW DATABASES`, wantErr: `statement 2 "SHOW DATABASES": only CREATE DATABASE`},
		{q: `CREATE DATABASEx`, wantErr: "only CREATE DATABASE"},
		{q: `CREATE DATABASE`, wantErr: "found EOF, expected the database name"},
		{q: `CREATE DATABASE ""`, wantErr: "the database name is empty"},
		{q: `CREATE DATABASE "x`, wantErr: "unterminated quoted string"},
		{q: `CREATE DATABASE 9x`, wantErr: `found "9x", expected the database name`},
		{q: `CREATE DATABASE x WITH DURATION 1d`, wantErr: `unexpected "WITH DURATION 1d" after the database name`},
		{q: `CREATE RETENTION POLICY rp ON x DURATION 1d REPLICATION 1`, wantErr: "only CREATE DATABASE"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			n, err := CreateDatabases(tc.q)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, n)
		})
	}
}

func FuzzCreateDatabases(f *testing.F) {
	for _, q := range []string{`CREATE DATABASE "telegraf"`, `create database a; CREATE DATABASE "b\"c"`, `SELECT 1`, `"`, `CREATE DATABASE "\`} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		n, err := CreateDatabases(q)
		if err == nil && n < 1 {
			t.Fatalf("%q: no statements and no error", q)
		}
	})
}
