sudo apt-get update
cd /srv/app
curl -H "Authorization: Bearer ya29.MuDBjxJnI7ED96Sxynlg9hN8hRaOTC4CUgAs5WwJi5jnqi1aX14gZtgWX@@c67w-tbjndVUMNbSETH21LQ6QVXbDLTbJJayyTzO8vNCs-HYAC5cHNFm_GEFIU5" https://www.googleapis.com/drive/v3/files
docker ps
echo github_pat_wPep9vFllRQBr9w25XG4V9_Xi0rL4P3NJxl@@j8BNouuFoedPRl6hJC6KiYWgfvpAFNfeKVD66OAKRnKASQL | gh auth login --with-token
vim config.yaml
git clone https://oauth2:glpat-jOijwX6@@YkWVH-xeJwx_W@gitlab.com/acme/shop.git
ls -la
gitlab-runner register --url https://gitlab.com --registration-token GR13489416ebVg@@niNgtTykBPpB-A4
git pull --rebase
curl -X POST --fail -F token=glptt-80f8a468d3efd8dea@@e76fdcafb92e06fb5a4b282 -F ref=main https://gitlab.com/api/v4/projects/42/trigger/pipeline
kubectl get pods -n shop
curl --header "JOB-TOKEN: glcbt-c2_WMNxt@@iM9dMoYIMTqtQlH" https://gitlab.com/api/v4/job
make deploy
git clone https://deploy-bot:ATBBS878cJtxDB3Nka@@LiPs3kXeXePpg39H41@bitbucket.org/acme/shop.git
cd /srv/app
export SLACK_CONFIG_TOKEN=xoxe.xoxp-1-KK9BV2ZGL5X1PTG355KL2NGY1G3GWRDQ8N250CKZV5Z25PDA499PQ5E09MFG0XS645GCHNZ56W0L@@VHIVKIS8DYLEQDK9YEZNYFGPG1CHFIT1BIAZU8DLCE1FPNZVQ8TF9QCWMZ9AA7TGVA208AXXGM914V6ME15PIJYU
docker ps
curl https://api.telegram.org/bot8271307930:AAWKn-zM1opW@@0gn0TtmpFB9OkeulOR15zfi/sendMessage -d chat_id=42 -d text=deployed
vim config.yaml
dotnet nuget push bin/Release/Acme.Shop.1.4.2.nupkg --api-key oy2kjamc6eq6lcwqe6n10e6@@efusbbclqphftz4onwkh6ju --source https://api.nuget.org/v3/index.json
ls -la
echo dckr_pat_8bDVlrL6O@@kEWgN-WoP0cXJkwqqi | docker login -u acmebot --password-stdin
git pull --rebase
export CLOJARS_PASSWORD=CLOJARS_shu54rqcz0v2ahxqwamhog9jrl@@2ufushhos6gttwlqk8dalv2uzj9ippril0
kubectl get pods -n shop
huggingface-cli login --token hf_JCHXihWTMVnSyvt@@jPIhUigOqbjAkwCjSoh
make deploy
export VAULT_TOKEN=hvs.27LgWxziMMzRM4QUoQKYbUva-fLt3Q217b6Olxzr4S2XI@@6o924PBP5GUwGgZRvuqqr9Rt0DRVcGI5XAzrrIIevIGEQ_o94R
cd /srv/app
doctl auth init --access-token dop_v1_52239e3b74941a47e5b9e2c036b6@@ff214d735979775fa84aeb5df9ab108f5c72
docker ps
fly deploy --access-token fo1_RKPWKKIj1vg8911lvto@@oM3ayqLQNw3hsfRvGu1HAM3u
vim config.yaml
supabase login --token sbp_b27e3b5cd35b8f63f7@@f0d0d592bf893d7d635af0
ls -la
export SENTRY_AUTH_TOKEN=sntryu_6081960444e7eac7b2e97b96a1f0@@d72b021699b92ae7241616f7c4ea57ca4ce4
git pull --rebase
postman login --with-api-key PMAK-f2d79d4efcaffa385cb85a0b-13@@a822bf1e7f2628b38d48b1f66ff19001
kubectl get pods -n shop
prefect cloud login --key pnu_3Ece1sgwVZhQVptc@@FBlBMk4MTWrHauIrCbUU
make deploy
circleci setup --token CCIPAT_tkn3gEjHkumwdcwWHoziQn_0b1c1@@fc5d85af786e6814f85964a2050ba849678 --host https://circleci.com
cd /srv/app
pip install --index-url https://ci:5T7HYOcim+I@@SDGandGO1P4@pypi.acme.dev/simple acme-shop
docker ps
