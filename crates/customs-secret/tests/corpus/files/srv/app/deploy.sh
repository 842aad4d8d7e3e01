curl -fsS -u deploy:Nldht7hmk@@aqb4Cx200 https://ci.acme.dev/api/v1/builds
curl -fsS -H "Authorization: Bearer 18etMc1h9jgNYKvn8w0x@@byONNkfhtUsGQdnfgfpr" https://ci.acme.dev/api/v1/builds
export AUTH_HEADER="Authorization: Token u5ER4kpi5LGowvy8tRbZ@@VqspYjtNNdnjyBbjxfpU"
kubectl patch secret regcred -p '{".dockerconfigjson": "eyJhdXRocyI6eyJyZWdpc3RyeS5hY21lLmRldiI6eyJhdXRoIj@@oibVhseVZoazFKRHlqUXQrOUFEMkpWM0xsMXdoZkcrR0kifX19"}'
