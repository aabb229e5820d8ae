package media_test

import (
	"crypto/rand"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/jmsg-im/jmsg/server/media"
	"github.com/jmsg-im/jmsg/server/media/mediatest"
)

// s3Config returns the test server from the environment .ci/run sets, or
// skips the test.
func s3Config(t *testing.T) media.S3Config {
	t.Helper()
	cfg := media.S3Config{
		Endpoint:  os.Getenv("JMSG_TEST_S3_ENDPOINT"),
		AccessKey: os.Getenv("JMSG_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("JMSG_TEST_S3_SECRET_KEY"),
		Bucket:    os.Getenv("JMSG_TEST_S3_BUCKET"),
		Region:    "us-east-1",
	}
	if cfg.Endpoint == "" || cfg.AccessKey == "" || cfg.SecretKey == "" || cfg.Bucket == "" {
		t.Skip("S3 suite skipped: set JMSG_TEST_S3_ENDPOINT (host:port), JMSG_TEST_S3_ACCESS_KEY, " +
			"JMSG_TEST_S3_SECRET_KEY and JMSG_TEST_S3_BUCKET (.ci/run starts versitygw)")
	}
	return cfg
}

// ensureBucket creates cfg.Bucket unless it exists.
func ensureBucket(t *testing.T, cfg media.S3Config) {
	t.Helper()
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("minio.New(%q) = %v", cfg.Endpoint, err)
	}
	ok, err := c.BucketExists(t.Context(), cfg.Bucket)
	if err != nil {
		t.Fatalf("BucketExists(%q) = %v", cfg.Bucket, err)
	}
	if ok {
		return
	}
	err = c.MakeBucket(t.Context(), cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
	if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		t.Fatalf("MakeBucket(%q) = %v", cfg.Bucket, err)
	}
}

func TestS3(t *testing.T) {
	cfg := s3Config(t)
	ensureBucket(t, cfg)
	run := rand.Text()[:8] // runs sharing a bucket do not collide
	mediatest.Run(t, func(t *testing.T) media.Store {
		c := cfg
		c.Prefix = "jmsgtest/" + run + "/" + rand.Text()[:8]
		s, err := media.NewS3(c)
		if err != nil {
			t.Fatalf("NewS3 = %v", err)
		}
		return s
	})
}
