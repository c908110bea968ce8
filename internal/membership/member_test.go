package membership

import "testing"

func TestIDsMatchEtcdDefaults(t *testing.T) {
	// A default etcd member (name "default", peer URL
	// http://localhost:2380, token "etcd-cluster") has these IDs; clients and
	// scripts see them in every response header.
	m := NewMember("default", []string{"http://localhost:2380"}, "etcd-cluster", nil)
	if got, want := IDString(m.ID), "8e9e05c52164694d"; got != want {
		t.Fatalf("member ID = %s, want %s", got, want)
	}
	if got, want := IDString(ClusterID([]uint64{m.ID})), "cdf818194e3a8c32"; got != want {
		t.Fatalf("cluster ID = %s, want %s", got, want)
	}
}

func TestMemberIDIgnoresURLOrder(t *testing.T) {
	a := NewMember("a", []string{"http://10.0.0.1:2380", "http://10.0.0.2:2380"}, "tok", nil)
	b := NewMember("a", []string{"http://10.0.0.2:2380", "http://10.0.0.1:2380"}, "tok", nil)
	if a.ID != b.ID {
		t.Fatalf("IDs differ with URL order: %x vs %x", a.ID, b.ID)
	}
	c := NewMember("a", []string{"http://10.0.0.1:2380", "http://10.0.0.2:2380"}, "other", nil)
	if a.ID == c.ID {
		t.Fatal("token does not change the member ID")
	}
}
