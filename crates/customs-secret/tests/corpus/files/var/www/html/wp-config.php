<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'WpI-WIGAU5@@pFs4VmGOL.' );
define( 'DB_HOST', 'mysql' );
$table_prefix = 'wp_';
