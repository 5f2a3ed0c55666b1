package store_test

import (
	"context"
	"testing"

	"github.com/cyberbrain/cyberbrain/pkg/store"
	"github.com/cyberbrain/cyberbrain/pkg/testenv"
)

func TestSaveArtifacts(t *testing.T) {
	t.Parallel()
	st := testenv.NewStore(t)
	ctx := context.Background()
	run := store.Run{DirectiveSnapshot: store.JSON(`{}`)}
	if err := testenv.SQL(t, st).Create(&run).Error; err != nil {
		t.Fatal(err)
	}
	job := store.Job{RunID: run.ID, TaskType: "noop", Config: store.JSON(`{}`), MaxAttempts: 1, TimeoutSeconds: 60}
	if err := testenv.SQL(t, st).Create(&job).Error; err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		return tx.SaveArtifacts(ctx, run.ID, job.ID, []store.NewArtifact{
			{Name: "report.md", ContentType: "text/markdown; charset=utf-8", Content: []byte("# hi")},
			{Name: "noop.json", ContentType: "application/json", Content: []byte(`{}`)},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var arts []store.Artifact
	if err := testenv.SQL(t, st).Where("run_id = ?", run.ID).Order("id").Find(&arts).Error; err != nil {
		t.Fatal(err)
	}
	if len(arts) != 2 || arts[0].Name != "report.md" || arts[0].Size != 4 || string(arts[0].Content) != "# hi" ||
		arts[1].ContentType != "application/json" || arts[1].JobID == nil || *arts[1].JobID != job.ID {
		t.Errorf("artifacts = %+v", arts)
	}
}
