# tojimari の日本語テキスト。
#
# en.ftl のメッセージと一対一に対応し、変数と属性も同じです（crates/tojimari-i18n/src/consistency.rs のテストが確かめます）。
# 各メッセージは 1 行で書きます（Fluent は複数行の値の改行をそのまま残すため）。
# 検出項目（finding-*）、深刻度（severity-*）、ポートの状態（state-*）、raw-privilege の英語は tojimari-core に一か所だけ定義されていて、
# ここにはその日本語訳を置きます。

## Shared words

language = 言語

verdict-open = OPEN（開いている）
    .help = このポートでプログラムが応答しています
verdict-closed = CLOSED（閉じている）
    .help = 何も待ち受けていないとマシンが応答したため、マシンの存在は外から見えます
verdict-stealth = STEALTH（応答なし）
    .help = まったく応答がありません

## check: the plain-words report of `tojimari check`

check-col-port = ポート
check-col-name = 名前
check-col-result = 結果
check-col-syn = SYN
check-col-fin = FIN
check-col-null = NULL
check-col-xmas = XMAS

check-icmp = ICMP エコー（ping）: { $result }
check-icmp-answered = ANSWERED（応答あり）。ping に応答するので、このホストの存在は外から分かります
check-icmp-silent = STEALTH（応答なし）。エコー応答はありませんでした
check-icmp-not-tested = 未確認。ICMP エコーを送るには { $privilege }が必要です

check-trojan-name = トロイの木馬: { $name }
check-firewall-answered = （ファイアウォールが応答: { $reason }）
check-banner = バナー: { $banner }
check-other-ports = （そのほかのポート: CLOSED { $closed } 個、STEALTH { $stealth } 個）
check-verdict-counts = 判定: { $total } ポート中 OPEN（開いている）{ $open } 個、CLOSED（閉じている）{ $closed } 個、STEALTH（応答なし）{ $stealth } 個。
check-serves-nothing = 何も公開していないマシンなら、すべてのポートが STEALTH（応答なし）になるはずです。
check-closed-visible = CLOSED のポートは、そこにマシンがあることをスキャナーに教えてしまいます。求めていないパケットには応答せず、ファイアウォールで破棄するようにしてください。
check-all-stealth = すべてのポートが STEALTH（応答なし）で、何も応答しませんでした。このマシンは、これらのポートで開いている扉を見せていません。
check-open-advice = { $port } OPEN（開いている）: { $advice }

check-verdict = 判定:
check-stateless-filter = { $count } 個のポートが、SYN は破棄するのに FIN/NULL/Xmas にはリセットを返します。接続の開始だけを止める STATELESS（状態を持たない）フィルターです。スキャナーは FIN/NULL/Xmas のプローブでこのマシンを調べられてしまうので、求めていないパケットをすべて破棄するステートフルなファイアウォールを使ってください（nftables なら ct state new,invalid drop）。
check-stateful-all = どの種類のプローブに対しても、すべてのポートが STEALTH（応答なし）です。ステートフルなファイアウォールがすべてを破棄しています（あるいはマシンが存在しません）。何も公開していないマシンは、こう見えるのが正解です。
check-stateful-some = { $count } 個のポートは、どの種類のプローブにも STEALTH（応答なし）です。ステートフルなファイアウォールがあると考えられます。
check-answer-closed = { $count } 個のポートが CLOSED（閉じている）と応答します。これらのポートへのパケットを破棄するファイアウォールがないため、マシンの存在が外から見えます。求めていないパケットを破棄すれば STEALTH（応答なし）になります。

## advice: one line for an OPEN port, by service

advice-ftp = FTP はパスワードを暗号化せずに送ります。SFTP（SSH 経由）か FTPS を使うか、このポートを閉じてください。
advice-ssh = SSH はリモート管理に使ってかまいません。接続元を自分のアドレスだけに絞り、鍵認証を使ってパスワード認証は無効にしてください。
advice-telnet = Telnet はパスワードも含め、すべてを暗号化せずに送ります。SSH に置き換えて、このポートを閉じてください。
advice-smtp = メールを受け付けるのはメールサーバーだけにすべきです。それ以外のマシンではこのポートを閉じ、見知らぬ相手のメールを中継（リレー）しないでください。
advice-dns = ここで応答すべきなのは DNS サーバーだけです。それ以外のマシンでは閉じ、インターネットに向けて再帰問い合わせを提供しないでください。
advice-finger = finger は、このマシンに誰のアカウントがあるかを見知らぬ相手に教えてしまいます。無効にしてください。
advice-http = 意図して Web サイトを公開しているのなら問題ありません。サーバーを最新の状態に保ってください。そうでなければ停止してください。
advice-mail-retrieval = メールの受信用です。提供するのはメールサーバーだけにし、TLS（ポート 995/993）経由に限ってください。
advice-ident = ident は時代遅れで、どの接続を誰が使っているかを教えてしまいます。無効にしてください。
advice-windows-sharing = Windows のファイル共有と RPC は、決してインターネットに公開してはいけません。ファイアウォールでこれらのポートを遮断してください。
advice-socks = 誰でも使える SOCKS プロキシがあると、他人があなたを経由して通信を中継できてしまいます。認証を必須にするか、閉じてください。
advice-http-proxy = 誰でも使える HTTP プロキシがあると、他人があなたを経由して通信を中継できてしまいます。自分のクライアントだけが使えるよう制限してください。
advice-upnp = UPnP があると、プログラムがルーターのポートを勝手に開けられます。インターネットに面した機器では無効にしてください。
advice-trojan = よく知られたバックドアのポートです（{ $name }）。このポートを使っているプログラムを探し（そのマシンで `tojimari local --port { $port }` を実行）、心当たりのあるものか確かめてください。
advice-default = ここで何も公開するつもりがないなら、そのプログラムを止めるか（そのマシンで `tojimari local --port { $port }` を実行するとプログラム名が分かります）、ファイアウォールでこのポートへのパケットを破棄してください。

## web

web-title = tojimari（戸締まり）
nav-dashboard = ダッシュボード
nav-new-check = 新しいチェック
nav-scans = スキャン一覧
nav-compare = 比較
nav-hosts = ホスト
nav-ports = ポートとサービス
nav-this-machine = このマシン
nav-language = 言語

col-port = ポート
col-state = 状態
col-service = サービス
col-version = バージョン

diff-added = 追加
diff-removed = 削除
diff-changed = 変更
diff-not-scanned = 未スキャン（閉じているという意味ではありません）

findings-heading = 検出事項
export-xml = XML で書き出す
export-jsonl = JSON Lines で書き出す
store-unavailable = 結果ストアを利用できません: { $reason }
progress-line = { $total } 件中 { $done } 件完了、毎秒 { $rate } 件、残り約 { $eta }、これまでに OPEN { $open } 件


# サーバー本体: レイアウト、新しいチェック、チェックのページ、ログイン、エラー。
log-out = ログアウト
cannot-do-that = 実行できませんでした
form-unreadable = フォームの内容を読み取れませんでした。
form-unreadable-hint = 前のページに戻り、フォームを入力し直してもう一度送信してください。
csrf-refused = このフォームは古いか、このページから送信されたものではありません。
csrf-refused-hint = ページを再読み込みしてから、もう一度お試しください。
no-target = 対象を入力してください（アドレス、ネットワーク（CIDR）またはホスト名）。
too-many-targets = 1回のチェックで指定できる対象が多すぎます
check-target = 対象
check-allowed = このページでチェックできる対象:
check-profile = チェックの種類
profile-quick = よく使われるサービスのポートと有名なバックドアを、わかりやすく確認
profile-stealth = よく使われるポートをすべてのプローブ（SYN、FIN、NULL、Xmas）で確認し、ファイアウォールが何を通すかを調べます
profile-trojan = 有名なトロイの木馬やバックドアのポート
profile-tcp = 1024 までのすべての TCP ポート
profile-udp = 1024 までのすべての UDP ポート
profile-prescan = サービスが自ら名乗る内容（バナー）
profile-full = すべての TCP ポートとサービスのバージョン（時間がかかります）
profile-custom = nmap の書式による独自のオプション
check-options = オプション（独自指定のみ）
check-start = チェックを開始
checks-recent = ここで開始したチェック
status = 状態
no-such-check = そのチェックは存在しません。
no-such-check-hint = チェックはサーバーを再起動するまで保持されます。結果はストアに残ります（「スキャン」を参照）。
check = チェック
scan = スキャン
check-report = チェックの報告
progress-waiting = 最初の進捗を待っています…
open-so-far = 件が開いています（現時点）
status-queued = 順番待ち
status-running = 実行中
status-done = 完了
status-failed = 失敗
no-such-page = そのページは存在しません。
no-such-page-hint = ページ上部のリンクを使ってください。
bad-scan-number = スキャンは番号で指定します。
bad-scan-number-hint = 「スキャン」ページに一覧があります。
export-failed-hint = スキャンが存在すること（「スキャン」ページに一覧があります）と、ストアに接続できることを確認してください。
unknown-language = 不明な言語です
store-unavailable-title = 結果ストアを利用できません
login-needed = このサーバーはパスワードを求めています。
login-needed-hint = 先にログインしてから、もう一度フォームを送信してください。
login-title = ログイン
login-password = パスワード
login-submit = ログイン
login-wrong = パスワードが違います。
login-locked = このアドレスからの誤ったパスワードが多すぎます。数分待ってから、もう一度お試しください。


# 閲覧ページ: ダッシュボード、スキャン、スキャン詳細、比較、ホスト、ポート、このマシン。
status-complete = 完了
status-interrupted = 中断
host-up = 稼働中
host-down = 停止
host-unknown = 不明
change-opened = 開いた
change-closed = 閉じた
change-state = 状態が変化
change-not-scanned = 未スキャン
change-newly-scanned = 新たにスキャン
change-host-down = ホスト停止
change-service = サービスが変化
change-cert = 証明書が変化
host-change-up = 稼働開始
host-change-down = 停止した
host-change-not-scanned = ホスト未スキャン
host-change-changed = 変化あり
finding-new = 新しい指摘
finding-resolved = 解消した指摘
finding-changed = 変化した指摘
not-scanned = 未スキャン
not-scanned-meaning = 「未スキャン」は後のスキャンがそのポートを調べなかったことを意味します。閉じているのではなく、不明です。
not-scanned-or-down = 見ていない（未スキャン、またはホストが稼働していない）
advice = 対策
alert-ended = スキャン終了
alert-scan = スキャン検知
alerts-live-note = 監視が記録した新しい警告はここに表示されます。
all-scans = すべてのスキャン
and-more = ほか
any-state = すべて
bad-cursor = カーソル（時刻.ID）ではありません
bad-request = 不正なリクエスト
bad-request-hint = アドレスまたはフォームを確認して、もう一度お試しください。
not-found = 見つかりません
changes-between = スキャン間の変化
clear-filters = クリア
col-change = 変化
col-confidence = 確度
col-finding = 指摘
col-findings = 指摘
col-from = 送信元
col-host = ホスト
col-hosts-up = 稼働ホスト
col-kind = 種類
col-open-ports = 開いているポート
col-ports = ポート数
col-probes = プローブ数
col-processes = プロセス
col-product = 製品
col-profile = プロファイル
col-reach = 到達範囲
col-recorded-by = 記録元
col-scan = スキャン
col-scan-type = スキャン種別
col-socket = ソケット
col-started = 開始
col-status = ステータス
col-targets = 対象
col-time = 時刻
col-to = 宛先
col-tool = ツール
command = コマンド
compare-a = 基準（A）
compare-b = 比較対象（B）
compare-button = 比較
compare-hint = 基準は完了したスキャンである必要があります。フォームで 2 つのスキャンを選んでください。
compare-no-baseline = 同じ範囲の以前の完了済みスキャンがありません
compare-no-pair = 同じ範囲の完了済みスキャンがまだ 2 つありません。
compare-not-complete = このスキャンは完了しておらず、基準にはできません
compare-other-scope = 対象・ポート・プロファイルが異なるスキャンです。B の範囲外のホストとポートは「未スキャン」です。
compare-with = 前回のスキャンと比較
ended = 終了
exposure = 深刻度別の露出
filter = 絞り込み
findings = 指摘
first-seen = 初検出
host = ホスト
last-changed = 最終変化
last-scans = スキャン数
last-seen = 最終検出
latest-scan = 最新のスキャン
legend = 凡例
machine-alerts = watch が検知したスキャン
machine-sockets = 待ち受けソケット（最新の local スナップショット）
matching-ports = 該当するポート
names-changed = ホスト名が変化
no-alerts = watch の警告は記録されていません（tojimari watch --store を実行してください）。
no-differences = 差分はありません。
no-findings = 最新のスキャンに指摘はありません。
no-hosts-recorded = まだホストは記録されていません。
no-local-snapshot = スナップショットは記録されていません（tojimari local --store を実行してください）。
no-matching-ports = この条件に該当するポートはありません。
no-ports-recorded = 記録されたポートはありません。
no-scans = まだスキャンはありません。
no-such-host = このホストはストアに記録されていません
no-such-scan = そのスキャンはありません
not-a-scan-number = スキャン番号ではありません
not-an-address = IP アドレスではありません
not-shown = 非表示
os-changed = OS が変化
os-guesses = OS の推定
trace-title = 経路: { $hops } ホップ
trace-using = 使用したプローブ: { $probe }
trace-col-hop = ホップ
trace-col-rtt = RTT
trace-col-address = アドレス
trace-same-as = ホップ 1〜{ $hops } は次のホストと同じ:
trace-silent = 応答なし
over-time = 開いているポートと指摘の推移
page = ページ
page-first = 最初
page-last = 最後
page-next = 次へ
page-previous = 前へ
pages = ページ
pid = プロセス ID
ports-asked = 指定ポート
query-encoding = クエリ文字列が不正です（%エンコードの誤り、または UTF-8 ではありません）
query-not-a-number = 許可された範囲の数値ではありません
query-repeated-key = パラメータが 2 回指定されています
query-unknown-key = このページはそのパラメータを受け付けません
recorded-by = 記録したスキャン
scan-running-note = このスキャンは実行中です。ホストは完了しだい表示されます。
scope-one-scan = この範囲の完了済みスキャンはまだ 1 つだけなので、比較できるものはありません。
scope-comparing = 直近 2 回のスキャンを比較しています。少し待ってから再読み込みしてください。
dashboard-pending = 大きなスキャンの集計を計算しています。全体を見るには、少し待ってから再読み込みしてください。
see-comparison = 比較を見る
snapshot-taken = 取得日時
source = 取得元
tls-details = TLS の詳細
what-changed = 変化したこと
bad-port-list = ポートの指定ではありません（0〜65535 のポートと範囲をカンマで区切ります。例: 22,80,8000-8100）
too-many-ranges = ポートの指定は 64 個まで
bad-port-state = ポートの状態ではありません（open, closed, filtered, unfiltered, open|filtered, closed|filtered）
bad-filter-text = 長すぎる（200 文字まで）か、制御文字を含んでいます

## Exposure findings (the English is tojimari-core's catalogue): title and general advice of each.

finding-telnet-cleartext-title = Telnet がログイン情報と通信内容を暗号化せずに送っている
finding-telnet-cleartext-advice = telnet を無効にして SSH を使ってください。どうしても残す場合は、ファイアウォールで管理用ネットワークからしか接続できないようにしてください
finding-ftp-cleartext-title = TLS なしの FTP がパスワードを暗号化せずに送っている
finding-ftp-cleartext-advice = TLS を必須にする（vsftpd: ssl_enable=YES, force_local_logins_ssl=YES）か、FTP を SFTP に置き換えてください
finding-ftp-anonymous-title = 匿名 FTP ログインが許可されている
finding-ftp-anonymous-advice = 誰にでもファイルを公開するためのサーバーでない限り、anonymous_enable=NO（vsftpd）を設定してください
finding-rdp-exposed-title = リモートデスクトップ（RDP）に接続できる
finding-rdp-exposed-advice = RDP は VPN やゲートウェイの内側に置き、ファイアウォールで管理用ホストからしか接続できないようにして、ネットワークレベル認証（NLA）を必須にしてください
finding-vnc-exposed-title = VNC リモートデスクトップに接続できる
finding-vnc-exposed-advice = VNC は SSH か VPN のトンネルを通して使い、localhost にバインドして、ファイアウォールでこのポートを閉じてください
finding-vnc-noauth-title = VNC がセキュリティタイプ None（パスワードなし）を提示している
finding-vnc-noauth-advice = VNC のパスワードかそれより強い認証を必須にし、localhost にバインドして、ファイアウォールでこのポートを閉じてください
finding-smb-exposed-title = SMB ファイル共有がネットワークアドレスで待ち受けている
finding-smb-exposed-advice = SMB（445、139）はファイアウォールでファイル共有が必要なホストだけに絞り、ローカルネットワークの外には決して公開しないでください
finding-database-exposed-title = データベースかキャッシュがネットワークアドレスで応答する
finding-database-exposed-advice = localhost（またはプライベートなインターフェース）にバインドし、ファイアウォールでこのポートをアプリケーションのホストだけに絞ってください
finding-redis-noauth-title = Redis が認証なしでコマンドに応答する
finding-redis-noauth-advice = requirepass（または ACL のユーザー）を設定し、protected-mode yes のままにして、Redis を 127.0.0.1 にバインドしてください
finding-memcached-udp-title = memcached が UDP で応答する（DDoS の増幅に悪用される）
finding-memcached-udp-advice = memcached を -U 0 で起動して UDP を無効にし、-l 127.0.0.1 でバインドしてください
finding-snmp-default-community-title = SNMP が既定のコミュニティ名に応答する
finding-snmp-default-community-advice = public/private のコミュニティを削除してください。SNMPv3 の authPriv を使うか、長いランダムなコミュニティ名と ACL を使ってください
finding-mongodb-noauth-title = MongoDB が認証なしでデータベースの一覧を返す
finding-mongodb-noauth-advice = 認可を有効にし（security.authorization: enabled）、ユーザーを作成して 127.0.0.1 にバインドしてください
finding-elasticsearch-noauth-title = Elasticsearch が認証なしで応答する
finding-elasticsearch-noauth-advice = セキュリティ機能を有効にし（xpack.security.enabled: true）、パスワードと TLS を設定して、プライベートなアドレスにバインドしてください
finding-smbv1-title = SMB サーバーが旧式の SMBv1 を受け付ける
finding-smbv1-advice = SMBv1 を無効にしてください（Samba: server min protocol = SMB2、Windows: Disable-WindowsOptionalFeature SMB1Protocol）
finding-x11-exposed-title = X サーバーが TCP で待ち受けている
finding-x11-exposed-advice = X サーバーを -nolisten tcp で起動し、X の画面は SSH で転送してください
finding-docker-api-exposed-title = 暗号化されていない Docker API がネットワークアドレスで待ち受けている
finding-docker-api-exposed-advice = Docker API は UNIX ソケットだけで提供してください（ネットワークで使うなら 2376 番で TLS クライアント証明書を必須に）
finding-tls-expired-title = TLS 証明書の有効期限が切れているか、まだ有効になっていない
finding-tls-expired-advice = 有効な証明書に取り替え、更新を自動化してください（ACME）
finding-tls-self-signed-title = TLS 証明書が自己署名されている
finding-tls-self-signed-advice = 信頼された（公開または組織内の）認証局が発行した証明書に取り替えてください
finding-tls-legacy-protocol-title = サーバーが SSLv3、TLS 1.0 または TLS 1.1 を受け付ける
finding-tls-legacy-protocol-advice = SSLv3、TLS 1.0、TLS 1.1 を無効にし（RFC 8996）、TLS 1.2 と 1.3 だけを許可してください
finding-tls-weak-key-title = TLS 証明書の鍵が短すぎる
finding-tls-weak-key-advice = 2048 ビット以上の RSA 鍵か 256 ビット以上の EC 鍵を使った証明書に取り替えてください
finding-tls-weak-signature-title = TLS 証明書が MD5 または SHA-1 で署名されている
finding-tls-weak-signature-advice = SHA-256（またはそれより強い）署名で証明書を発行し直してください

## Severity words, nmap's port states and the privilege raw packets need (English: tojimari-core).

severity-info = 情報
severity-low = 低
severity-medium = 中
severity-high = 高
severity-critical = 緊急
raw-privilege = root 権限（または CAP_NET_RAW ケーパビリティ）

state-open = 開いている
state-closed = 閉じている
state-filtered = フィルタされている
state-unfiltered = フィルタなし
state-open-filtered = 開いているかフィルタされている
state-closed-filtered = 閉じているかフィルタされている
