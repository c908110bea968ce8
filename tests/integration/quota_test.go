package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cairn-kv/cairn/internal/config"
	"github.com/cairn-kv/cairn/internal/testutil"
)

// TestQuotaNoSpaceAndRecovery fills a small quota: the NOSPACE alarm is
// raised and writes fail with etcd's error while reads and deletes work;
// after compaction, defragmentation and disarming, writes work again.
func TestQuotaNoSpaceAndRecovery(t *testing.T) {
	m := testutil.StartMember(t, func(c *config.Config) { c.QuotaBackendBytes = 4 << 20 })
	c := m.Client(t)
	ctx := ctxT(t)
	val := strings.Repeat("x", 64<<10)
	var err error
	n := 0
	for ; n < 1000; n++ {
		if _, err = c.Put(ctx, fmt.Sprintf("big/%d", n%20), val); err != nil {
			break
		}
	}
	if err != rpctypes.ErrNoSpace {
		t.Fatalf("after %d puts: %v, want NOSPACE", n, err)
	}
	alarms, err := c.AlarmList(ctx)
	if err != nil || len(alarms.Alarms) != 1 || alarms.Alarms[0].Alarm != pb.AlarmType_NOSPACE {
		t.Fatalf("alarms: %v %v", alarms, err)
	}
	st, err := c.Status(ctx, m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Errors) != 1 || st.Errors[0] != "memberID:10276657743932975437 alarm:NOSPACE " {
		t.Fatalf("status does not report the alarm: %q", st.Errors)
	}
	if st.DbSize < 4<<20 || st.DbSizeInUse <= 0 || st.DbSizeInUse > st.DbSize || st.DbSizeQuota != 4<<20 {
		t.Fatalf("status sizes: db %d, in use %d, quota %d", st.DbSize, st.DbSizeInUse, st.DbSizeQuota)
	}
	// /health fails on the alarm, and counts the failure.
	resp, err := http.Get(m.ClientURL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || string(body) != `{"health":"false","reason":"ALARM NOSPACE"}` {
		t.Fatalf("/health under NOSPACE: %d %s", resp.StatusCode, body)
	}
	if got := scrape(t, m.ClientURL+"/metrics")["etcd_server_health_failures"]; got == nil || got.value != 1 {
		t.Fatalf("etcd_server_health_failures = %v, want 1", got)
	}
	// Writes fail even when small; reads and deletes work.
	if _, err := c.Put(ctx, "small", "v"); err != rpctypes.ErrNoSpace {
		t.Fatalf("small put under NOSPACE: %v", err)
	}
	if _, err := c.Txn(ctx).Then(clientv3.OpPut("t", "v")).Commit(); err != rpctypes.ErrNoSpace {
		t.Fatalf("txn under NOSPACE: %v", err)
	}
	if _, err := c.Grant(ctx, 10); err != rpctypes.ErrNoSpace {
		t.Fatalf("lease grant under NOSPACE: %v", err)
	}
	if _, err := c.Get(ctx, "big/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		t.Fatal(err)
	}
	del, err := c.Delete(ctx, "big/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Defragment(ctx, m.Endpoint); err != nil {
		t.Fatal(err)
	}
	st, err = c.Status(ctx, m.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if st.DbSize >= 4<<20 || st.DbSizeInUse > st.DbSize {
		t.Fatalf("db still %d bytes (%d in use) after compaction and defrag", st.DbSize, st.DbSizeInUse)
	}
	// Still refused until the alarm is disarmed.
	if _, err := c.Put(ctx, "small", "v"); err != rpctypes.ErrNoSpace {
		t.Fatalf("put before disarm: %v", err)
	}
	if _, err := c.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, "small", "v"); err != nil {
		t.Fatalf("put after recovery: %v", err)
	}
}

func TestAlarmActivateDeactivate(t *testing.T) {
	m := testutil.StartMember(t)
	c := m.Client(t)
	ctx := ctxT(t)
	mid := uint64(0x8e9e05c52164694d)
	resp, err := c.Maintenance.(interface{}).(clientv3.Maintenance).AlarmList(ctx)
	if err != nil || len(resp.Alarms) != 0 {
		t.Fatalf("initial alarms: %v %v", resp, err)
	}
	conn := c.ActiveConnection()
	mc := pb.NewMaintenanceClient(conn)
	act, err := mc.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: mid, Alarm: pb.AlarmType_CORRUPT})
	if err != nil || len(act.Alarms) != 1 {
		t.Fatalf("activate: %v %v", act, err)
	}
	if _, err := c.Put(ctx, "k", "v"); err != rpctypes.ErrCorrupt {
		t.Fatalf("put under CORRUPT: %v", err)
	}
	again, err := mc.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_ACTIVATE, MemberID: mid, Alarm: pb.AlarmType_CORRUPT})
	if err != nil || len(again.Alarms) != 0 {
		t.Fatalf("second activate: %v %v", again, err)
	}
	deact, err := mc.Alarm(ctx, &pb.AlarmRequest{Action: pb.AlarmRequest_DEACTIVATE, MemberID: mid, Alarm: pb.AlarmType_CORRUPT})
	if err != nil || len(deact.Alarms) != 1 {
		t.Fatalf("deactivate: %v %v", deact, err)
	}
	if _, err := c.Put(ctx, "k", "v"); err != nil {
		t.Fatalf("put after deactivation: %v", err)
	}
}
